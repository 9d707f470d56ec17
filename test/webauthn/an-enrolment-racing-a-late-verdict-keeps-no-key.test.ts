/**
 * A late fraud verdict on a login and that login's WebAuthn enrolment, racing (webauthn/keys-of-a-stopped-login.ts):
 * the verdict records the stop and removes the login's keys under the login's lock; an enrolment stores its key
 * under the same lock, after reading the stop. Whichever comes first, no key of the stopped login stays:
 *
 * - the verdict first: the enrolment is refused (`WEBAUTHN_ENROLMENT_NOT_ALLOWED`) and stores nothing;
 * - a verdict in flight (its stop recorded, not committed) when the enrolment stores: the enrolment waits for it and
 *   is refused;
 * - an enrolment in flight (its key inserted, not committed) when the verdict comes: the removal waits for it and
 *   removes its key. Before, the removal ran at once, missed the uncommitted key, and the key stayed for good.
 *
 * The real gateway's services (PostgreSQL, Redis, its audit log, the verdict's own revoker).
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { CredentialStore, type StoredCredential } from '../../gateway/webauthn/credential-store.ts';
import { lockEnrolmentsOf, storeEnrolment } from '../../gateway/webauthn/keys-of-a-stopped-login.ts';
import { WebAuthnError } from '../../gateway/webauthn/webauthn-error.ts';
import { startSessionBed, type SessionBed } from '../gateway/session/session-bed.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed({ bootOptions: { fraud: { reprocessMs: 0 } } });
});
test.after.always(async () => {
  await bed?.stop();
});

const key = (loginId: string): StoredCredential => ({
  credentialId: `key-of-${loginId}`,
  accountId: `account-of-${loginId}`,
  publicKey: new Uint8Array([1, 2, 3]),
  counter: 0,
  attachment: 'platform',
  transports: [],
  userVerified: true,
  aaguid: '00000000-0000-0000-0000-000000000000',
  level: 2,
  attestationFormat: 'none',
});

const record = (loginId: string) => ({
  sessionId: loginId,
  from: null,
  to: 'WEBAUTHN_ENROLLED' as const,
  component: 'webauthn',
  details: {},
});

/** The late verdict on `loginId`, as the reprocessing worker runs it (translation/boot-fraud.ts). */
const verdict = (loginId: string) => bed.gateway.services.fraud.revoker!(loginId, `account-of-${loginId}`);

test.serial('a verdict before the enrolment stores: refused with its code, nothing stored', async (t) => {
  const { pool, audit } = bed.gateway.services;
  const loginId = `login-${randomUUID()}`;
  await verdict(loginId);
  const refused = await t.throwsAsync(storeEnrolment(pool, audit, loginId, key(loginId), record(loginId)));
  t.true(refused instanceof WebAuthnError);
  t.is((refused as WebAuthnError).code, 'WEBAUTHN_ENROLMENT_NOT_ALLOWED');
  t.false(await new CredentialStore(pool).has(key(loginId).credentialId));
});

test.serial('an enrolment during a verdict in flight waits for it, then is refused', async (t) => {
  const { pool, audit } = bed.gateway.services;
  const loginId = `login-${randomUUID()}`;
  // the verdict's removal mid-transaction: under the login's lock, its stop recorded, not committed yet
  const client = await pool.connect();
  t.teardown(() => client.release());
  await client.query('begin');
  await lockEnrolmentsOf(client, loginId);
  await client.query('insert into webauthn_stopped_logins (login_id) values ($1)', [loginId]);
  let settled = false;
  const enrolment = storeEnrolment(pool, audit, loginId, key(loginId), record(loginId)).then(
    () => 'stored',
    (error: unknown) => (error instanceof WebAuthnError ? error.code : String(error)),
  );
  void enrolment.finally(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.false(settled, 'the enrolment waits for the verdict in flight');
  await client.query('commit');
  t.is(await enrolment, 'WEBAUTHN_ENROLMENT_NOT_ALLOWED');
  t.false(await new CredentialStore(pool).has(key(loginId).credentialId));
});

test.serial('a verdict during an enrolment in flight waits for it, then removes its key', async (t) => {
  const { pool } = bed.gateway.services;
  const loginId = `login-${randomUUID()}`;
  // an enrolment mid-transaction: under the login's lock, its key inserted, not committed yet
  const client = await pool.connect();
  t.teardown(() => client.release());
  await client.query('begin');
  await lockEnrolmentsOf(client, loginId);
  t.true(await new CredentialStore(pool).add({ ...key(loginId), enrolledByLogin: loginId }, client));
  let settled = false;
  const removal = verdict(loginId).finally(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.false(settled, 'the removal waits for the enrolment in flight');
  await client.query('commit');
  await removal;
  t.false(await new CredentialStore(pool).has(key(loginId).credentialId), 'the enrolled key was removed');
});
