/**
 * The key-ceremony CLI: `node hsm/cli.ts <init|list>`.
 *
 * - Configuration comes from the environment only: GW_PKCS11_LIBRARY, GW_PKCS11_TOKEN_LABEL, GW_PKCS11_PIN
 *   (and SOFTHSM2_CONF for SoftHSM). The PIN is never printed.
 * - `init` makes the keys of DEFAULT_KEY_SPEC that the token lacks and prints what it generated.
 * - `list` prints every key of ours: kid, purpose, alg, label and the private key's flags.
 * - Failures print the stable error code and exit non-zero (1: operation failed, 2: usage).
 */
import { HsmError } from './errors.ts';
import { DEFAULT_KEY_SPEC, ensureKeys, openKeyStore, type TokenKeyStore } from './token-keystore.ts';

const USAGE = `usage: node hsm/cli.ts <init|list>
  init   generate the missing keys of the default development key set
  list   list the keys on the token (kid, purpose, alg, label, flags)
environment: GW_PKCS11_LIBRARY, GW_PKCS11_TOKEN_LABEL, GW_PKCS11_PIN (and SOFTHSM2_CONF for SoftHSM)`;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new HsmError('HSM_CONFIG_INVALID', `environment variable ${name} is not set`);
  return value;
}

async function init(store: TokenKeyStore): Promise<void> {
  const generated = await ensureKeys(store, DEFAULT_KEY_SPEC);
  if (generated.length === 0) console.log('nothing to generate: every key of the default set exists');
  for (const signer of generated) console.log(`generated ${signer.kid} ${signer.purpose} ${signer.alg} ${signer.label}`);
}

async function list(store: TokenKeyStore): Promise<void> {
  const signers = store.signers();
  if (signers.length === 0) console.log('no keys on the token');
  for (const signer of signers) {
    const flags = await signer.keyFlags();
    const shown = Object.entries(flags).map(([name, value]) => `${name}=${String(value)}`).join(' ');
    console.log(`${signer.kid} ${signer.purpose} ${signer.alg} ${signer.label} ${shown}`);
  }
}

const COMMANDS: Readonly<Record<string, (store: TokenKeyStore) => Promise<void>>> = { init, list };

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  if (argv.length !== 1 || !command || !Object.hasOwn(COMMANDS, command)) {
    console.error(USAGE);
    return 2;
  }
  const store = await openKeyStore({ library: env('GW_PKCS11_LIBRARY'), tokenLabel: env('GW_PKCS11_TOKEN_LABEL'), pin: env('GW_PKCS11_PIN') });
  try {
    await COMMANDS[command](store);
  } finally {
    await store.close();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof HsmError) {
      console.error(`error ${error.code}: ${error.message}${error.detail ? ` (${error.detail})` : ''}`);
    } else {
      console.error('error: unexpected failure', error);
    }
    process.exitCode = 1;
  },
);
