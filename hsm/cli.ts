/**
 * The key-ceremony CLI: `node hsm/cli.ts <command> [args] [--yes] [--force]`.
 *
 * - Configuration comes from the environment only: GW_PKCS11_LIBRARY, GW_PKCS11_TOKEN_LABEL, GW_PKCS11_PIN
 *   (and SOFTHSM2_CONF for SoftHSM). The PIN is never printed.
 * - `init` makes the keys of DEFAULT_KEY_SPEC that the token lacks and prints what it generated; with
 *   GW_DATABASE_URL it records them at once (adopted as active where no key of their purpose and algorithm has a
 *   record), audited as the operator's.
 * - `list` prints every key of ours: kid, purpose, alg, label and the private key's flags (with
 *   GW_DATABASE_URL: also the lifecycle state and times).
 * - generate, publish, activate, retire, destroy, export, jwks, schedule: the key lifecycle
 *   (`hsm/cli-lifecycle.ts`, records in PostgreSQL); every action audited; activate/retire/destroy ask
 *   for confirmation unless `--yes`.
 * - kek init|show, dek rotate|list [domain]: the key hierarchy (`hsm/cli-hierarchy.ts`).
 * - `generate <purpose> ML-DSA-65 --ack-experimental`: an experimental in-process key, wrapped under the
 *   KEK (`hsm/pq/`); its activation also needs `--ack-experimental`.
 * - Failures print the stable error code and exit non-zero (1: operation failed, 2: usage).
 */
import { createInterface } from 'node:readline/promises';
import { openCliPool, refuseUnverifiedDatabaseUrl } from './cli-database.ts';
import { cliUser } from './cli-user.ts';
import { LifecycleKeyStore } from './lifecycle/lifecycle-keystore.ts';
import { PgKeyRecords } from './lifecycle/pg-key-records.ts';
import { runHierarchyCommand } from './cli-hierarchy.ts';
import { runLifecycleCommand, type CliIo } from './cli-lifecycle.ts';
import { HsmError } from './errors.ts';
import { DEFAULT_KEY_SPEC, ensureKeys, openKeyStore, type TokenKeyStore } from './token-keystore.ts';

const USAGE = `usage: node hsm/cli.ts <command> [args] [--yes] [--force]
  init                          generate the missing keys of the default development key set
  list                          list the keys (kid, purpose, alg, [state], label, flags, [times])
  generate <purpose> <alg> [--pending] [--ack-experimental]
                                new key in the token, published as next (or pending); ML-DSA-65
                                (experimental, in process, wrapped under the KEK) needs --ack-experimental
  publish <kid>                 pending -> next
  activate <kid> [--force] [--ack-experimental]
                                next -> active (after the lead time); the old key of that alg is retired
  retire <kid>                  active -> retired (published until notAfter)
  destroy <kid> [--force]       retired (after notAfter) / pending / next -> destroyed, removed from the token
  export <kid> [--certificate]  public JWK (or the certificate PEM)
  jwks <purpose>                the published JWKS of a purpose
  schedule                      the rotation plan of the default policy
  kek init | kek show           the token's AES-256 KEK (non-extractable, wrap/unwrap only)
  dek rotate [domain]           new DEK (generated in the token, stored wrapped); the old one is kept
  dek list [domain]             DEK versions and states
environment: GW_PKCS11_LIBRARY, GW_PKCS11_TOKEN_LABEL, GW_PKCS11_PIN (and SOFTHSM2_CONF for SoftHSM);
  lifecycle commands: GW_DATABASE_URL, optional GW_KEY_LEAD_SECONDS, GW_KEY_RETENTION_SECONDS`;

const LIFECYCLE = new Set(['generate', 'publish', 'activate', 'retire', 'destroy', 'export', 'jwks', 'schedule']);
const FLAGS = new Set(['--yes', '--force', '--pending', '--certificate', '--ack-experimental']);
const HIERARCHY = new Set(['kek', 'dek']);

async function ask(question: string): Promise<string> {
  if (!process.stdin.isTTY) return '';
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new HsmError('HSM_CONFIG_INVALID', `environment variable ${name} is not set`);
  return value;
}

async function init(store: TokenKeyStore): Promise<void> {
  const generated = await ensureKeys(store, DEFAULT_KEY_SPEC);
  if (generated.length === 0) console.log('nothing to generate: every key of the default set exists');
  for (const signer of generated)
    console.log(`generated ${signer.kid} ${signer.purpose} ${signer.alg} ${signer.label}`);
  // with the lifecycle's database: the keys made are recorded now, audited as this operator's (an `adopt`), and
  // not later by whichever gateway or CLI opens the store next
  const url = process.env.GW_DATABASE_URL;
  if (!url || generated.length === 0) return;
  const pool = openCliPool(url, 2);
  try {
    const keys = await LifecycleKeyStore.open({
      tokens: store,
      records: new PgKeyRecords(pool),
      actor: `cli:${cliUser()}`,
    });
    for (const signer of generated) {
      const state = keys.records().find((r) => r.kid === signer.kid)?.state;
      console.log(
        state
          ? `recorded ${signer.kid} ${state}`
          : `not recorded ${signer.kid}: its purpose and algorithm have keys already (use generate)`,
      );
    }
  } finally {
    await pool.end();
  }
}

async function list(store: TokenKeyStore): Promise<void> {
  const signers = store.signers();
  if (signers.length === 0) console.log('no keys on the token');
  for (const signer of signers) {
    const flags = await signer.keyFlags();
    const shown = Object.entries(flags)
      .map(([name, value]) => `${name}=${String(value)}`)
      .join(' ');
    console.log(`${signer.kid} ${signer.purpose} ${signer.alg} ${signer.label} ${shown}`);
  }
}

const COMMANDS: Readonly<Record<string, (store: TokenKeyStore) => Promise<void>>> = { init, list };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const flags = new Set(rest.filter((a) => a.startsWith('--')));
  const positional = rest.filter((a) => !a.startsWith('--'));
  const lifecycle =
    command !== undefined && (LIFECYCLE.has(command) || (command === 'list' && Boolean(process.env.GW_DATABASE_URL)));
  const hierarchy = command !== undefined && HIERARCHY.has(command);
  const known = command !== undefined && (LIFECYCLE.has(command) || hierarchy || Object.hasOwn(COMMANDS, command));
  if (
    !known ||
    [...flags].some((f) => !FLAGS.has(f)) ||
    (!lifecycle && !hierarchy && rest.length > 0) ||
    (hierarchy && flags.size > 0)
  ) {
    console.error(USAGE);
    return 2;
  }
  // before the token is touched: a key made by `init` or `kek init` is recorded or audited over this connection
  if (process.env.GW_DATABASE_URL) refuseUnverifiedDatabaseUrl(process.env.GW_DATABASE_URL);
  const store = await openKeyStore({
    library: env('GW_PKCS11_LIBRARY'),
    tokenLabel: env('GW_PKCS11_TOKEN_LABEL'),
    pin: env('GW_PKCS11_PIN'),
  });
  try {
    const io: CliIo = { out: (line) => console.log(line), warn: (line) => console.error(line), ask, env: process.env };
    if (hierarchy) await runHierarchyCommand(command as 'kek' | 'dek', positional, store, io);
    else if (lifecycle) await runLifecycleCommand(command, { positional, flags }, store, io);
    else await COMMANDS[command]!(store);
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
