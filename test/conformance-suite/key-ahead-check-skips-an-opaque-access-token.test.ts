/**
 * CRYPTO-JWKS-04 ("a key is published ahead of rotation") tells a next key by its algorithm: a published key of an
 * algorithm some key is seen signing with, that is not that key. With a suite client registered for opaque access
 * tokens, no access-token key is seen signing, and the key that signs other clients' access tokens (the ID token's
 * algorithm, RS256) would pass for a next key: the check is skipped then, saying why, never passed. With a JWT
 * access token it judges as before. The login and the JWKS are canned (the whole suite runs against the gateway in
 * suite-passes-against-the-gateway.test.ts).
 */
import test from 'ava';
import type { SuiteContext } from '../../conformance/suite/context.ts';
import { jwksChecks } from '../../conformance/suite/checks/crypto/jwks.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (kid: string) => `${b64({ alg: 'RS256', kid, typ: 'JWT' })}.${b64({})}.c2ln`;
const published = ['id-1', 'at-1', 'next-1'].map((kid) => ({ kty: 'RSA', kid, alg: 'RS256', use: 'sig' }));

/** A suite context whose honest login got `accessToken` and an ID token signed by `id-1`. */
function contextWith(accessToken: string): SuiteContext {
  const login = {
    tokens: { json: { access_token: accessToken } },
    header: { alg: 'RS256', kid: 'id-1' },
  };
  return {
    idp: 'suite-idp',
    rp: { jwks: async () => ({ keys: published }), discovery: { jwks_uri: 'https://gw.example/jwks' } },
    memo: (key: string, make: () => Promise<unknown>) => (key === 'oidc-good-login' ? Promise.resolve(login) : make()),
  } as unknown as SuiteContext;
}

const check = jwksChecks.find((c) => c.id === 'CRYPTO-JWKS-04')!;

test('with an opaque access token the check is skipped, saying why', async (t) => {
  const outcome = await check.run(contextWith('x'.repeat(43)));
  t.is(outcome.verdict, 'skipped');
  t.regex(outcome.reason ?? '', /access tokens are opaque/);
});

test('with a JWT access token the key that signs neither is the next key', async (t) => {
  const outcome = await check.run(contextWith(jwt('at-1')));
  t.is(outcome.verdict, 'pass');
  t.regex(outcome.observed, /published and not signing: next-1 \(RS256\) /);
  t.notRegex(outcome.observed, /not signing: [^;]*at-1/, 'the access-token key is seen signing');
});
