/**
 * What a WebAuthn credential may stand in for (issue #10 item 10), with @simplewebauthn/server and a
 * software authenticator (attestation PKIs made here, as a vendor ships them):
 * - level 3 needs `direct` attestation: `none` and self attestation are WEBAUTHN_ATTESTATION_REQUIRED; a
 *   chain to a root that is not configured, or a model (AAGUID) outside the trust list, is
 *   WEBAUTHN_ATTESTATION_UNTRUSTED; with no root configured level 3 is WEBAUTHN_LEVEL3_UNAVAILABLE;
 * - a browser's claim of `cross-platform` alone never makes a level-3 credential;
 * - a credential never satisfies a level above the one it was enrolled for (WEBAUTHN_CREDENTIAL_LEVEL_TOO_LOW);
 * - a new level-3 credential waits its cool-down (WEBAUTHN_CREDENTIAL_COOLING_DOWN);
 * - enrolment is earned only by a FRESH login at LoA high (forced for this login, AuthnInstant after our
 *   request: level 2), level 3 only when that login was decided at level 3.
 */
import test from 'ava';
import { relyingPartyOf, verifyAssertion, verifyRegistration } from '../../gateway/webauthn/ceremonies.ts';
import { X509Certificate } from 'node:crypto';
import { rootFingerprints, rootOfChain } from '../../gateway/webauthn/attestation.ts';
import { levelPolicyOf, refusalFor } from '../../gateway/webauthn/credential-levels.ts';
import { enrolmentLevelOf, FRESH_LOGIN_SECONDS, type VerifiedOutcome } from '../../gateway/webauthn/step-up.ts';
import { attestationPki, type AttestationPki } from './attestation-ca.ts';
import { SoftAuthenticator } from './soft-authenticator.ts';

const rp = relyingPartyOf('https://gateway.example.org');
const challenge = 'Y2hhbGxlbmdlLWNoYWxsZW5nZS0zMi1ieXRlcy0tLQ';
const MODEL = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';
let vendor: AttestationPki;
let stranger: AttestationPki;
test.before(async () => {
  vendor = await attestationPki('Trusted Keys');
  stranger = await attestationPki('Unknown Keys');
});
const level3 = { level: 3, attachment: 'cross-platform' } as const;
const enrol = (
  key: SoftAuthenticator,
  attestation: 'none' | 'self' | AttestationPki,
  trust: { rootCertificates: string[]; trustedAaguids: string[] },
  aaguid = MODEL,
) =>
  key
    .register({ challenge, origin: rp.origin, rpId: rp.rpId, attachment: 'cross-platform', attestation, aaguid })
    .then((response) => verifyRegistration(rp, response, challenge, 'acct', level3, trust));

test('a security key attested by a configured root enrols at level 3', async (t) => {
  const credential = await enrol(new SoftAuthenticator(), vendor, {
    rootCertificates: [vendor.rootPem],
    trustedAaguids: [MODEL],
  });
  t.like(credential, { level: 3, attachment: 'cross-platform', attestationFormat: 'packed', aaguid: MODEL });
  t.is(credential.attestationRoot, rootFingerprints([vendor.rootPem])[0], 'the root its chain ended at is recorded');
});

test('a level-3 key attested under a root taken out of the configuration since no longer stands in for level 3', async (t) => {
  const credential = await enrol(new SoftAuthenticator(), vendor, {
    rootCertificates: [stranger.rootPem, vendor.rootPem],
    trustedAaguids: [],
  });
  const cooled = { ...credential, createdAt: new Date(Date.now() - 73 * 3600_000) };
  const base = { level3CooldownSeconds: 72 * 3600, level3Available: true, trustedRoots: [] };
  const both = rootFingerprints([stranger.rootPem, vendor.rootPem]);
  t.is(refusalFor(cooled, 3, { ...base, trustedRoots: both }, new Date()), null, 'its root still configured');
  const withoutItsRoot = { ...base, trustedRoots: rootFingerprints([stranger.rootPem]) };
  t.is(refusalFor(cooled, 3, withoutItsRoot, new Date())?.code, 'WEBAUTHN_ATTESTATION_UNTRUSTED');
  t.is(refusalFor(cooled, 2, withoutItsRoot, new Date()), null, 'level 2 does not depend on attestation');
  // a key enrolled before roots were recorded is judged as before
  t.is(refusalFor({ ...cooled, attestationRoot: null }, 3, withoutItsRoot, new Date()), null);
  // the deployment's policy names its configured roots
  t.deepEqual(
    levelPolicyOf({
      level3CooldownSeconds: 3600,
      level3UserVerification: true,
      attestation: { rootCertificates: [vendor.rootPem], trustedAaguids: [] },
    }).trustedRoots,
    rootFingerprints([vendor.rootPem]),
  );
});

test('the root recorded is the one the whole chain ends at: a certificate appended to x5c names no other root', (t) => {
  const roots = [stranger.rootPem, vendor.rootPem];
  const [strangerRoot, vendorRoot] = rootFingerprints(roots);
  t.is(rootOfChain([vendor.leafDer], roots), vendorRoot);
  t.is(rootOfChain([stranger.leafDer], roots), strangerRoot);
  // a key attested under the vendor's root, with a certificate of another root's appended: the library ignores what
  // the chain does not need; the record would have named the other root, which the operator may keep
  t.is(rootOfChain([vendor.leafDer, stranger.leafDer], roots), undefined);
  const rootDer = (pem: string) => new Uint8Array(new X509Certificate(pem).raw);
  t.is(rootOfChain([vendor.leafDer, rootDer(stranger.rootPem)], roots), undefined, 'another root appended');
  t.is(rootOfChain([vendor.leafDer, rootDer(vendor.rootPem)], roots), vendorRoot, 'its own configured root sent along');
  t.is(rootOfChain([vendor.leafDer], [stranger.rootPem]), undefined, 'its root not configured');
  t.is(rootOfChain([vendor.leafDer], roots, new Date(Date.now() + 2 * 365 * 86_400_000)), undefined, 'root expired');
});

test('level 3 enrols a key that verified the person (its PIN), unless the deployment accepts possession alone', async (t) => {
  const trust = { rootCertificates: [vendor.rootPem], trustedAaguids: [MODEL] };
  const withoutPin = (key: SoftAuthenticator) =>
    key.register({
      challenge,
      origin: rp.origin,
      rpId: rp.rpId,
      attachment: 'cross-platform',
      attestation: vendor,
      aaguid: MODEL,
      userVerified: false,
    });
  const key = new SoftAuthenticator();
  await t.throwsAsync(verifyRegistration(rp, await withoutPin(key), challenge, 'acct', level3, trust), {
    code: 'WEBAUTHN_USER_NOT_VERIFIED',
  });
  const possessionAlone = { ...level3, userVerification: false };
  t.like(await verifyRegistration(rp, await withoutPin(key), challenge, 'acct', possessionAlone, trust), {
    level: 3,
    userVerified: false,
  });
});

test('level 3 refuses attestation none and self attestation (the browser saying cross-platform is not enough)', async (t) => {
  const trust = { rootCertificates: [vendor.rootPem], trustedAaguids: [] };
  await t.throwsAsync(enrol(new SoftAuthenticator(), 'none', trust), { code: 'WEBAUTHN_ATTESTATION_REQUIRED' });
  await t.throwsAsync(enrol(new SoftAuthenticator(), 'self', trust), { code: 'WEBAUTHN_ATTESTATION_REQUIRED' });
});

test('level 3 refuses a chain to another root and a model outside the trust list', async (t) => {
  await t.throwsAsync(
    enrol(new SoftAuthenticator(), stranger, { rootCertificates: [vendor.rootPem], trustedAaguids: [] }),
    { code: 'WEBAUTHN_ATTESTATION_UNTRUSTED' },
  );
  await t.throwsAsync(
    enrol(new SoftAuthenticator(), vendor, {
      rootCertificates: [vendor.rootPem],
      trustedAaguids: ['00000000-0000-0000-0000-000000000001'],
    }),
    { code: 'WEBAUTHN_ATTESTATION_UNTRUSTED' },
  );
});

test('with no attestation root configured, level 3 via WebAuthn is unavailable', async (t) => {
  await t.throwsAsync(enrol(new SoftAuthenticator(), vendor, { rootCertificates: [], trustedAaguids: [] }), {
    code: 'WEBAUTHN_LEVEL3_UNAVAILABLE',
  });
  const key = new SoftAuthenticator();
  t.is(
    refusalFor(
      key.stored('acct', 'cross-platform'),
      3,
      { level3CooldownSeconds: 3600, level3Available: false, trustedRoots: [] },
      new Date(),
    )?.code,
    'WEBAUTHN_LEVEL3_UNAVAILABLE',
  );
});

test('a credential never satisfies a level above its own, and a new level-3 key waits its cool-down', async (t) => {
  const policy = { level3CooldownSeconds: 72 * 3600, level3Available: true, trustedRoots: [] };
  const key = new SoftAuthenticator();
  const assertion = key.assert({ challenge, origin: rp.origin, rpId: rp.rpId, counter: 1 });
  const levelTwo = key.stored('acct', 'cross-platform', 0, { level: 2, attestationFormat: 'none' });
  await t.throwsAsync(verifyAssertion(rp, assertion, challenge, levelTwo, 3, policy), {
    code: 'WEBAUTHN_CREDENTIAL_LEVEL_TOO_LOW',
  });
  const legacy = key.stored('acct', 'cross-platform', 0, { level: 1, attestationFormat: 'none' });
  await t.throwsAsync(verifyAssertion(rp, assertion, challenge, legacy, 2, policy), {
    code: 'WEBAUTHN_CREDENTIAL_LEVEL_TOO_LOW',
  });
  const fresh = key.stored('acct', 'cross-platform', 0, { createdAt: new Date(Date.now() - 71 * 3600_000) });
  await t.throwsAsync(verifyAssertion(rp, assertion, challenge, fresh, 3, policy), {
    code: 'WEBAUTHN_CREDENTIAL_COOLING_DOWN',
  });
  t.is((await verifyAssertion(rp, assertion, challenge, fresh, 2, policy)).newCounter, 1, 'level 2 needs no cool-down');
  const cooled = key.stored('acct', 'cross-platform', 0, { createdAt: new Date(Date.now() - 73 * 3600_000) });
  t.is((await verifyAssertion(rp, assertion, challenge, cooled, 3, policy)).newCounter, 1);
});

test('a level-3 key of a model taken off the trust list since its enrolment no longer stands in for level 3', (t) => {
  const key = new SoftAuthenticator();
  const cooled = key.stored('acct', 'cross-platform', 0, { createdAt: new Date(Date.now() - 73 * 3600_000) });
  const base = { level3CooldownSeconds: 72 * 3600, level3Available: true, trustedRoots: [] };
  t.is(refusalFor(cooled, 3, { ...base, trustedAaguids: [cooled.aaguid] }, new Date()), null);
  t.is(refusalFor(cooled, 3, { ...base, trustedAaguids: [] }, new Date()), null, 'an empty list: any model');
  const refused = refusalFor(
    cooled,
    3,
    { ...base, trustedAaguids: ['11111111-2222-3333-4444-555555555555'] },
    new Date(),
  );
  t.is(refused?.code, 'WEBAUTHN_ATTESTATION_UNTRUSTED');
  t.is(
    refusalFor(cooled, 2, { ...base, trustedAaguids: ['11111111-2222-3333-4444-555555555555'] }, new Date()),
    null,
    'level 2 does not depend on the model',
  );
});

test('only a fresh LoA-high login earns an enrolment (level 3 only when the login was decided at level 3)', (t) => {
  const now = Date.now();
  const outcome = (acr: string, ageSeconds: number) =>
    ({
      status: 'verified',
      accountId: 'a',
      idp: 'i',
      fraudScore: 0,
      oneTimeUse: false,
      decision: { kind: 'allow', reasons: [] },
      pivot: { acr, given_name: 'A', family_name: 'B' },
      authTime: Math.floor((now - ageSeconds * 1000) / 1000),
    }) as unknown as VerifiedOutcome;
  const forced = { issuedAt: now - 30_000, forceAuthn: true };
  const level = (
    o: VerifiedOutcome,
    upstream: { issuedAt: number; forceAuthn: boolean } | undefined,
    satisfied = 0,
    maxAge = FRESH_LOGIN_SECONDS,
  ) => enrolmentLevelOf(o, upstream, 60, satisfied, now, maxAge);
  t.is(level(outcome('eidas2', 10), forced), 0, 'an ordinary (substantial) login enrols nothing');
  t.is(
    level(outcome('eidas3', 10), { ...forced, forceAuthn: false }),
    0,
    'not forced: the IdP may have answered from its SSO session',
  );
  t.is(level(outcome('eidas3', 10), undefined), 0, 'no upstream request on record');
  t.is(
    level(outcome('eidas3', 10 * 60), { issuedAt: now - 60_000, forceAuthn: true }),
    0,
    'authenticated before our forced request (an earlier session)',
  );
  t.is(
    level(outcome('eidas3', 8 * 3600), { issuedAt: now - 9 * 3600_000, forceAuthn: true }),
    0,
    'an authentication of the morning is not fresh',
  );
  t.is(level(outcome('eidas3', -3600), forced), 0, 'an AuthnInstant in the future is not believed');
  t.is(level(outcome('eidas3', 10), forced), 2);
  t.is(level(outcome('eidas3', 10), forced, 3), 3);
  t.is(level(outcome('eidas2', 10), forced, 3), 0);
  t.is(
    level(outcome('eidas3', 20 * 60), { issuedAt: now - 21 * 60_000, forceAuthn: true }, 3),
    0,
    'twenty minutes old',
  );
  t.is(
    level(outcome('eidas3', 20 * 60), { issuedAt: now - 21 * 60_000, forceAuthn: true }, 3, FRESH_LOGIN_SECONDS + 900),
    3,
    'after a manual review the wait is allowed for',
  );
});
