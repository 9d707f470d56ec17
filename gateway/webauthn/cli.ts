/**
 * The service desk's tool for a person's WebAuthn keys (the account page and the key notices send people to it):
 *
 *   node gateway/webauthn/cli.ts --config FILE list <account id>
 *   node gateway/webauthn/cli.ts --config FILE show <key reference>
 *   node gateway/webauthn/cli.ts --config FILE unrooted
 *   node gateway/webauthn/cli.ts --config FILE --reason TEXT [--actor NAME] remove <key reference>
 *
 * A key reference is what the person reads out from their account page or a confirm-it-is-you page (the first 16
 * characters of the SHA-256 of the key's id, as audit records name keys). `list` and `show` print one JSON line per
 * key: reference, account, kind, level, when added and last used, whether suspended (a cloned key:
 * suspend-cloned-key.ts). `remove` deletes the key for good (a lost key, one the person does not recognise, a
 * suspended one), in one transaction with its audit record `WEBAUTHN_CREDENTIAL_REMOVED` (the reason, the account,
 * and the actor `cli:<OS user>`, `for NAME` with `--actor`); the person enrols a new key after a fresh sign-in at
 * LoA high. `unrooted` lists the level-3 keys that recorded no attestation root (enrolled before migration 0890):
 * they keep level 3 even if their root is taken out of `webauthn.attestation.rootCertificateFiles`; ask their holders
 * to enrol again (then remove the old key). Exit 0 done, 1 could not run (`error <CODE>: …`; `WEBAUTHN_CREDENTIAL_UNKNOWN` for a reference that
 * names no key), 2 usage.
 */
import { cliUser, parseCommandLine } from '../cli-arguments.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { loadConfigFile } from '../config/load.ts';
import { inTransaction } from '../session/pg-transaction.ts';
import { revocationReason } from '../session/revocation-input.ts';
import { createPool } from '../store/postgres.ts';
import { CredentialStore, credentialRef, type StoredCredential } from './credential-store.ts';
import { WebAuthnError } from './webauthn-error.ts';

const USAGE =
  'usage: node gateway/webauthn/cli.ts --config FILE list <account id> | show <key reference> | unrooted\n       node gateway/webauthn/cli.ts --config FILE --reason TEXT [--actor NAME] remove <key reference>';
const OPTIONS = { config: { type: 'string' }, reason: { type: 'string' }, actor: { type: 'string' } } as const;
const REFERENCE = /^[A-Za-z0-9_-]{16}$/;

/** One key as the desk reads it. */
function described(c: StoredCredential): Record<string, unknown> {
  return {
    reference: credentialRef(c.credentialId),
    account: c.accountId,
    kind: c.attachment === 'cross-platform' ? 'security key' : 'device',
    level: c.level,
    attestationRoot: c.attestationRoot ?? null,
    added: c.createdAt?.toISOString(),
    lastUsed: c.lastUsedAt?.toISOString() ?? null,
    suspended: c.suspendedAt?.toISOString() ?? null,
  };
}

function usageProblem(
  command: string | undefined,
  value: string | undefined,
  extra: string[],
  reason?: string,
  actor?: string,
) {
  if (command !== 'list' && command !== 'show' && command !== 'remove' && command !== 'unrooted')
    return `unknown command ${JSON.stringify(command)}`;
  if (command === 'unrooted') return value === undefined ? undefined : 'too many arguments';
  if (!value) return command === 'list' ? 'an account id is required' : 'a key reference is required';
  if (extra.length > 0) return 'too many arguments';
  if (command !== 'list' && !REFERENCE.test(value)) return 'a key reference is 16 characters (A-Z, a-z, 0-9, - and _)';
  if (command === 'remove' && !reason?.trim()) return '--reason is required';
  // both go into the audit chain: held to the rule the session CLI and the admin API apply (session/revocation-input.ts)
  if (command === 'remove') {
    const checked = revocationReason(reason);
    if ('problem' in checked) return `--reason: ${checked.problem}`;
    if (actor !== undefined && 'problem' in revocationReason(actor))
      return '--actor must be 1 to 500 characters, none a control or invisible character';
  }
  return undefined;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(process.argv.slice(2), OPTIONS); // an account id or reference may begin with '-'
  } catch (error) {
    console.error(`webauthn: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, value, ...extra] = parsed.positionals;
  const { config: file, reason } = parsed.values;
  const problem = !file ? '--config is required' : usageProblem(command, value, extra, reason, parsed.values.actor);
  if (problem) {
    console.error(`webauthn: ${problem}\n${USAGE}`);
    return 2;
  }
  const config = loadConfigFile(file!);
  const pool = createPool(config.database.url, { max: 2 });
  const audit = new AuditLog(pool);
  const store = new CredentialStore(pool);
  try {
    if (command === 'list') {
      for (const key of await store.ofAccount(value!)) console.log(JSON.stringify(described(key)));
      return 0;
    }
    if (command === 'unrooted') {
      for (const key of await store.levelThreeWithoutRoot()) console.log(JSON.stringify(described(key)));
      return 0;
    }
    const key = await store.byRef(value!);
    if (!key) throw new WebAuthnError('WEBAUTHN_CREDENTIAL_UNKNOWN', `no key has reference ${value}`);
    if (command === 'show') {
      console.log(JSON.stringify(described(key)));
      return 0;
    }
    const actor = `cli:${cliUser()}${parsed.values.actor === undefined ? '' : ` for ${parsed.values.actor}`}`;
    const removed = await inTransaction(pool, async (client) => {
      if (!(await store.remove(key.credentialId, client))) return false;
      await audit.appendWithin(client, {
        sessionId: `webauthn:${value}`,
        from: null,
        to: 'WEBAUTHN_CREDENTIAL_REMOVED',
        component: 'webauthn',
        details: { actor, reason: reason!, account: key.accountId, credential: value, level: key.level },
      });
      return true;
    });
    if (!removed) throw new WebAuthnError('WEBAUTHN_CREDENTIAL_UNKNOWN', `no key has reference ${value}`);
    console.log(JSON.stringify({ removed: described(key) }));
    return 0;
  } finally {
    await audit.close();
    await pool.end();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  const code = error instanceof WebAuthnError ? error.code : 'WEBAUTHN_CLI_FAILED';
  console.error(`error ${code}: ${(error as Error).message}`);
  process.exitCode = 1;
}
