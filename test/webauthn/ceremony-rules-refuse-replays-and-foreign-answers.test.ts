/**
 * The rules of gateway-side WebAuthn, each refusal with its stable code (software authenticator, real
 * Redis for challenges, real PostgreSQL for the counter):
 * a challenge is single use; another origin or RP ID is refused; the counter may not go back; level 2
 * needs user verification, level 3 too unless the deployment accepts possession alone; level 3 needs a roaming
 * security key.
 */
import test from 'ava';
import { createPool } from '../../gateway/store/postgres.ts';
import { migrate } from '../../gateway/store/migrate.ts';
import { createRedis } from '../../gateway/store/redis.ts';
import { relyingPartyOf, verifyAssertion } from '../../gateway/webauthn/ceremonies.ts';
import { ChallengeStore } from '../../gateway/webauthn/challenges.ts';
import { CredentialStore } from '../../gateway/webauthn/credential-store.ts';
import { freshDatabase, redisPrefix, redisUrl } from '../helpers/services.ts';
import { SoftAuthenticator } from './soft-authenticator.ts';

const rp = relyingPartyOf('https://gateway.example.org');
const challenge = 'Y2hhbGxlbmdlLWNoYWxsZW5nZS0zMi1ieXRlcy0tLQ';
const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
let pool: ReturnType<typeof createPool>;

test.before(async () => {
  pool = createPool(await freshDatabase());
  await migrate(pool);
});
test.after.always(async () => {
  redis.disconnect();
  await pool?.end();
});

const ok = { challenge, origin: rp.origin, rpId: rp.rpId, counter: 7 };
const policy = { level3CooldownSeconds: 72 * 3600, level3Available: true, trustedRoots: [] };

test('the RP ID is the issuer hostname and the origin its origin', (t) => {
  t.deepEqual(
    { ...relyingPartyOf('https://gw.example.org:8443/'), name: '' },
    { rpId: 'gw.example.org', origin: 'https://gw.example.org:8443', name: '' },
  );
});

test('a well-formed assertion from the enrolled security key is accepted at level 3', async (t) => {
  const key = new SoftAuthenticator();
  const result = await verifyAssertion(
    rp,
    key.assert(ok),
    challenge,
    key.stored('acct', 'cross-platform', 3),
    3,
    policy,
  );
  t.is(result.newCounter, 7);
});

test('a challenge is used at most once', async (t) => {
  const store = new ChallengeStore(redis);
  await store.issue('authenticate', 'uid-1', { challenge, accountId: 'acct' });
  t.is((await store.take('authenticate', 'uid-1')).challenge, challenge);
  await t.throwsAsync(store.take('authenticate', 'uid-1'), { code: 'WEBAUTHN_CHALLENGE_UNKNOWN' });
  await t.throwsAsync(
    store.take('register', 'uid-2'),
    { code: 'WEBAUTHN_CHALLENGE_UNKNOWN' },
    'bound to its interaction and ceremony',
  );
});

test('an answer for another challenge is refused', async (t) => {
  const key = new SoftAuthenticator();
  await t.throwsAsync(
    verifyAssertion(
      rp,
      key.assert({ ...ok, challenge: 'b3RoZXItY2hhbGxlbmdl' }),
      challenge,
      key.stored('acct', 'cross-platform'),
      3,
      policy,
    ),
    { code: 'WEBAUTHN_VERIFICATION_FAILED' },
  );
});

test('an answer signed for another origin is refused', async (t) => {
  const key = new SoftAuthenticator();
  await t.throwsAsync(
    verifyAssertion(
      rp,
      key.assert({ ...ok, origin: 'https://evil.example.net' }),
      challenge,
      key.stored('acct', 'cross-platform'),
      3,
      policy,
    ),
    { code: 'WEBAUTHN_ORIGIN_MISMATCH' },
  );
});

test('an answer for another RP ID is refused', async (t) => {
  const key = new SoftAuthenticator();
  await t.throwsAsync(
    verifyAssertion(
      rp,
      key.assert({ ...ok, rpId: 'example.org' }),
      challenge,
      key.stored('acct', 'cross-platform'),
      3,
      policy,
    ),
    { code: 'WEBAUTHN_RPID_MISMATCH' },
  );
});

test('a counter that does not grow is refused, in the rules and atomically in the store', async (t) => {
  const key = new SoftAuthenticator();
  await t.throwsAsync(
    verifyAssertion(
      rp,
      key.assert({ ...ok, counter: 5 }),
      challenge,
      key.stored('acct', 'cross-platform', 5),
      3,
      policy,
    ),
    { code: 'WEBAUTHN_COUNTER_REGRESSION' },
  );
  const store = new CredentialStore(pool);
  await store.add(key.stored('acct-counter', 'cross-platform', 5));
  await store.advanceCounter(key.credentialId, 6);
  await t.throwsAsync(store.advanceCounter(key.credentialId, 6), { code: 'WEBAUTHN_COUNTER_REGRESSION' });
  t.is((await store.get('acct-counter', key.credentialId))?.counter, 6);
});

test('level 3 needs user verification too (the key’s PIN), unless the deployment accepts possession alone', async (t) => {
  const key = new SoftAuthenticator();
  let counter = 7;
  const withoutPin = () => key.assert({ ...ok, counter: (counter += 1), userVerified: false });
  await t.throwsAsync(verifyAssertion(rp, withoutPin(), challenge, key.stored('acct', 'cross-platform'), 3, policy), {
    code: 'WEBAUTHN_USER_NOT_VERIFIED',
  });
  const possessionAlone = { ...policy, level3UserVerification: false };
  const result = await verifyAssertion(
    rp,
    withoutPin(),
    challenge,
    key.stored('acct', 'cross-platform'),
    3,
    possessionAlone,
  );
  t.false(result.userVerified);
});

test('level 2 needs user verification', async (t) => {
  const key = new SoftAuthenticator();
  await t.throwsAsync(
    verifyAssertion(
      rp,
      key.assert({ ...ok, userVerified: false, attachment: 'platform' }),
      challenge,
      key.stored('acct', 'platform'),
      2,
      policy,
    ),
    { code: 'WEBAUTHN_USER_NOT_VERIFIED' },
  );
});

test('level 3 needs a roaming security key', async (t) => {
  const key = new SoftAuthenticator();
  await t.throwsAsync(
    verifyAssertion(
      rp,
      key.assert({ ...ok, attachment: 'platform' }),
      challenge,
      key.stored('acct', 'platform'),
      3,
      policy,
    ),
    { code: 'WEBAUTHN_ATTACHMENT_MISMATCH' },
  );
  await t.throwsAsync(
    verifyAssertion(
      rp,
      key.assert({ ...ok, attachment: 'platform' }),
      challenge,
      key.stored('acct', 'cross-platform'),
      3,
      policy,
    ),
    { code: 'WEBAUTHN_ATTACHMENT_MISMATCH' },
  );
});

test('a credential other than the one stored is refused', async (t) => {
  const key = new SoftAuthenticator();
  const other = new SoftAuthenticator();
  await t.throwsAsync(
    verifyAssertion(rp, other.assert(ok), challenge, key.stored('acct', 'cross-platform'), 3, policy),
    { code: 'WEBAUTHN_CREDENTIAL_UNKNOWN' },
  );
});
