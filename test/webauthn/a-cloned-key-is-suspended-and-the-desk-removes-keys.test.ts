/**
 * A cloned authenticator (WebAuthn L3 §6.1.1) and the service desk's tool for keys:
 * - a signed answer whose counter did not grow is refused (`WEBAUTHN_COUNTER_REGRESSION`) and suspends the key, in
 *   one transaction with its audit record (`WEBAUTHN_CREDENTIAL_SUSPENDED`); the key then stands in for nothing,
 *   even with a counter that grows (`WEBAUTHN_CREDENTIAL_SUSPENDED`);
 * - the store's atomic check (two answers with one counter, both verified) suspends it too, and a suspended key's
 *   counter moves no more; but two ceremonies of the person's own at once (the key's last good use seconds ago,
 *   two tabs answering out of order) are refused without a suspension;
 * - an answer the key did not sign proves nothing: whatever counter it names, it suspends nothing;
 * - `node gateway/webauthn/cli.ts` lists an account's keys, shows one by the reference the pages show, and removes
 *   it with its audit record (`WEBAUTHN_CREDENTIAL_REMOVED`, the actor and the reason); usage errors exit 2, a
 *   reference naming no key exits 1 with its code.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { AuditLog } from '../../gateway/audit/audit-log.ts';
import { migrate } from '../../gateway/store/migrate.ts';
import { createPool } from '../../gateway/store/postgres.ts';
import { relyingPartyOf, verifyAssertion } from '../../gateway/webauthn/ceremonies.ts';
import { CredentialStore, credentialRef } from '../../gateway/webauthn/credential-store.ts';
import { suspendingAClone } from '../../gateway/webauthn/suspend-cloned-key.ts';
import { prepareDeployment, type Deployment } from '../harness/deployment.ts';
import { RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';
import { SoftAuthenticator } from './soft-authenticator.ts';

const CLI = fileURLToPath(new URL('../../gateway/webauthn/cli.ts', import.meta.url));
const run = promisify(execFile);
const rp = relyingPartyOf('https://gateway.example.org');
const challenge = 'Y2hhbGxlbmdlLWNoYWxsZW5nZS0zMi1ieXRlcy0tLQ';
const policy = { level3CooldownSeconds: 72 * 3600, level3Available: true, trustedRoots: [] };
const answer = { challenge, origin: rp.origin, rpId: rp.rpId };
let pool: ReturnType<typeof createPool>;
let audit: AuditLog;
let deployment: Deployment;

test.before(async () => {
  const pgUrl = await freshDatabase();
  pool = createPool(pgUrl);
  await migrate(pool);
  audit = new AuditLog(pool);
  deployment = await prepareDeployment({
    dir: mkdtempSync(join(tmpdir(), 'gw-webauthn-cli-')),
    pgUrl,
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    rpRedirectUri: RP_REDIRECT,
    logLevel: 'silent',
  });
});
test.after.always(async () => {
  await deployment?.stop();
  await audit?.close();
  await pool?.end();
});

const store = () => new CredentialStore(pool);

/** A level-2 key of `account`, stored with counter `counter`. */
async function enrolled(account: string, counter: number): Promise<SoftAuthenticator> {
  const key = new SoftAuthenticator();
  await store().add({ ...key.stored(account, 'cross-platform', counter), level: 2 });
  return key;
}

/** The step-up's verification of `key`'s answer with counter `counter`, as authenticate.ts runs it. */
async function stepUp(key: SoftAuthenticator, account: string, counter: number, loginId: string, forge = false) {
  const credential = (await store().get(account, key.credentialId))!;
  const response = key.assert({ ...answer, counter });
  if (forge) {
    const signature = Buffer.from(response.response.signature, 'base64url');
    signature[signature.length - 1]! ^= 0x01;
    response.response.signature = signature.toString('base64url');
  }
  return suspendingAClone({ pool, audit }, loginId, key.credentialId, 'authenticate', async () => {
    const verified = await verifyAssertion(rp, response, challenge, credential, 2, policy);
    await store().advanceCounter(key.credentialId, verified.newCounter);
    return verified;
  });
}

async function suspensionRecords(loginId: string) {
  const { rows } = await pool.query<{ details: Record<string, unknown>; error_code: string }>(
    "select details, error_code from audit_log where session_id = $1 and to_state = 'WEBAUTHN_CREDENTIAL_SUSPENDED'",
    [loginId],
  );
  return rows;
}

test('a signed answer whose counter did not grow suspends the key, audited; it then stands in for nothing', async (t) => {
  const key = await enrolled('acct-clone', 9);
  await t.throwsAsync(stepUp(key, 'acct-clone', 4, 'login-clone'), { code: 'WEBAUTHN_COUNTER_REGRESSION' });
  t.truthy((await store().get('acct-clone', key.credentialId))?.suspendedAt);
  t.like(await suspensionRecords('login-clone'), [
    {
      error_code: 'WEBAUTHN_COUNTER_REGRESSION',
      details: { credential: credentialRef(key.credentialId), ceremony: 'authenticate', counters: 'counter 4 ≤ 9' },
    },
  ]);
  await t.throwsAsync(stepUp(key, 'acct-clone', 10, 'login-after'), { code: 'WEBAUTHN_CREDENTIAL_SUSPENDED' });
  t.is((await store().get('acct-clone', key.credentialId))?.counter, 9, 'a suspended key moves nothing');
});

test('two verified answers with one counter: the store refuses the second and suspends the key', async (t) => {
  const key = await enrolled('acct-race', 3);
  const credential = (await store().get('acct-race', key.credentialId))!;
  // both read the key before either moved its counter, as two concurrent step-ups do
  const first = await verifyAssertion(rp, key.assert({ ...answer, counter: 4 }), challenge, credential, 2, policy);
  const second = await verifyAssertion(rp, key.assert({ ...answer, counter: 4 }), challenge, credential, 2, policy);
  await store().advanceCounter(key.credentialId, first.newCounter);
  // the first use long enough ago that two ceremonies of the person's own at once do not explain the second
  await pool.query(
    "update webauthn_credentials set last_used_at = now() - interval '1 hour' where credential_id = $1",
    [key.credentialId],
  );
  await t.throwsAsync(
    suspendingAClone({ pool, audit }, 'login-race', key.credentialId, 'confirm', () =>
      store().advanceCounter(key.credentialId, second.newCounter),
    ),
    { code: 'WEBAUTHN_COUNTER_REGRESSION' },
  );
  t.truthy((await store().get('acct-race', key.credentialId))?.suspendedAt);
  t.is((await suspensionRecords('login-race')).length, 1);
  await t.throwsAsync(store().advanceCounter(key.credentialId, 99), { code: 'WEBAUTHN_COUNTER_REGRESSION' });
  t.is(
    (await store().get('acct-race', key.credentialId))?.counter,
    4,
    'an answer in flight moves a suspended key no more',
  );
});

test('two ceremonies of the person at once (the last good use seconds ago): refused, not suspended', async (t) => {
  const key = await enrolled('acct-tabs', 3);
  await stepUp(key, 'acct-tabs', 5, 'login-tab-b'); // the second tab's answer arrives first
  await t.throwsAsync(stepUp(key, 'acct-tabs', 4, 'login-tab-a'), { code: 'WEBAUTHN_COUNTER_REGRESSION' });
  t.falsy((await store().get('acct-tabs', key.credentialId))?.suspendedAt);
  t.deepEqual(await suspensionRecords('login-tab-a'), []);
});

test('an answer the key did not sign suspends nothing, whatever counter it names', async (t) => {
  const key = await enrolled('acct-forged', 9);
  await t.throwsAsync(stepUp(key, 'acct-forged', 0, 'login-forged', true), { code: 'WEBAUTHN_VERIFICATION_FAILED' });
  t.falsy((await store().get('acct-forged', key.credentialId))?.suspendedAt);
  t.deepEqual(await suspensionRecords('login-forged'), []);
  await stepUp(key, 'acct-forged', 10, 'login-genuine');
  t.is((await store().get('acct-forged', key.credentialId))?.counter, 10, 'the genuine key goes on');
});

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, '--config', deployment.configFile, ...args], {
      env: { ...process.env, ...deployment.env },
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

test('the service desk lists, shows and removes a key by its reference, the removal audited', async (t) => {
  const lost = await enrolled('acct-desk', 1);
  const kept = await enrolled('acct-desk', 1);
  const reference = credentialRef(lost.credentialId);
  const listed = (await cli('list', 'acct-desk')).stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.deepEqual(listed.map((k) => k.reference).sort(), [reference, credentialRef(kept.credentialId)].sort());
  t.like(JSON.parse((await cli('show', reference)).stdout), {
    reference,
    account: 'acct-desk',
    level: 2,
    suspended: null,
  });

  const removed = await cli('--reason', 'lost on a train', '--actor', 'desk-7', 'remove', reference);
  t.is(removed.code, 0, removed.stderr);
  t.is(await store().get('acct-desk', lost.credentialId), null);
  t.truthy(await store().get('acct-desk', kept.credentialId), 'only that key');
  const { rows } = await pool.query<{ details: Record<string, unknown> }>(
    "select details from audit_log where session_id = $1 and to_state = 'WEBAUTHN_CREDENTIAL_REMOVED'",
    [`webauthn:${reference}`],
  );
  t.is(rows.length, 1);
  t.like(rows[0]!.details, { reason: 'lost on a train', account: 'acct-desk', credential: reference });
  t.regex(String(rows[0]!.details.actor), /^cli:\S+ for desk-7$/);

  const again = await cli('--reason', 'twice', 'remove', reference);
  t.is(again.code, 1);
  t.regex(again.stderr, /^error WEBAUTHN_CREDENTIAL_UNKNOWN: /);
});

test('the desk tool lists the level-3 keys that recorded no attestation root, which keep level 3 whatever the roots', async (t) => {
  const unrooted = new SoftAuthenticator();
  await store().add(unrooted.stored('acct-unrooted', 'cross-platform', 0, { level: 3, attestationFormat: 'packed' }));
  const rooted = new SoftAuthenticator();
  await store().add(
    rooted.stored('acct-unrooted', 'cross-platform', 0, {
      level: 3,
      attestationFormat: 'packed',
      attestationRoot: 'ab'.repeat(32),
    }),
  );
  const listed = (await cli('unrooted')).stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { reference: string; attestationRoot: string | null });
  t.true(listed.some((k) => k.reference === credentialRef(unrooted.credentialId) && k.attestationRoot === null));
  t.false(
    listed.some((k) => k.reference === credentialRef(rooted.credentialId)),
    'a key with its root recorded is not',
  );
  t.is((await cli('unrooted', 'extra')).code, 2);
});

test('the desk tool refuses a removal without a reason, and a malformed reference, as usage errors', async (t) => {
  const key = await enrolled('acct-usage', 1);
  const withoutReason = await cli('remove', credentialRef(key.credentialId));
  t.is(withoutReason.code, 2);
  t.regex(withoutReason.stderr, /--reason is required/);
  t.is((await cli('show', 'short')).code, 2);
  t.is((await cli('forget', 'acct-usage')).code, 2);
  // the reason and the actor go into the audit chain: no control or invisible character (a right-to-left override)
  const hidden = await cli('--reason', 'lost\u202Eniart a no', 'remove', credentialRef(key.credentialId));
  t.is(hidden.code, 2);
  t.regex(hidden.stderr, /--reason:/);
  const actor = await cli('--reason', 'lost', '--actor', 'desk\u0007', 'remove', credentialRef(key.credentialId));
  t.is(actor.code, 2);
  t.regex(actor.stderr, /--actor must be/);
  t.truthy(await store().get('acct-usage', key.credentialId));
});
