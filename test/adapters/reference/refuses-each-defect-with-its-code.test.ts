/**
 * The reference adapter's own table (`adapters/reference/verify.ts`): every step refuses with its code, the
 * level is clipped and never raised, and the configuration is refused at boot when it could not be served.
 * (The shared defects — signature, audience, expiry, unknown LoA, replay, another browser — are in the
 * contract suite.)
 */
import test from 'ava';
import { exportJWK, generateKeyPair, CompactSign } from 'jose';
import { AdapterError, type LoaUri, type UpstreamAdapter } from '../../../adapters/contract.ts';
import { referenceSectionSchema } from '../../../adapters/reference/config.ts';
import { createReferenceAdapter } from '../../../adapters/reference/reference-adapter.ts';
import { ASSERTION_TYPE } from '../../../adapters/reference/verify.ts';
import type { AdapterErrorCode } from '../../../adapters/errors/registry.ts';
import { RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import type { KeyStore } from '../../../hsm/signer.ts';
import { createReferenceIdp, type ReferenceTestIdp } from '../../helpers/reference/reference-idp.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';

const AUDIENCE = 'https://gateway.test.example/reference';
const SUBSTANTIAL: LoaUri = 'http://eidas.europa.eu/LoA/substantial';
const BROWSER = 'reference-browser';
const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
const ctx = {
  keys: {} as KeyStore,
  state: new RedisStateStore(redis),
  digestKey: Buffer.alloc(32, 1),
  baseUrl: 'https://gateway.test.example',
  now: () => new Date(),
};
let idp: ReferenceTestIdp;
let adapter: UpstreamAdapter;

const entry = (publicKeyFile: string) => ({
  id: 'reference-idp',
  displayName: 'Reference IdP',
  issuer: 'https://reference-idp.test.example',
  authorizeUrl: 'https://reference-idp.test.example/authorize',
  publicKeyFile,
  algorithm: 'ES256' as const,
  maxLoa: SUBSTANTIAL,
  clockSkewSeconds: 60,
  maxAuthenticationAgeSeconds: 3600,
});
const endpoints = { audience: AUDIENCE, responseUrl: 'https://gateway.test.example/reference/response' };

test.before(async () => {
  idp = await createReferenceIdp();
  adapter = await createReferenceAdapter(entry(idp.publicKeyFile), idp.publicJwk, endpoints, ctx);
});
test.after.always(async () => {
  await redis.quit();
});

async function login(options: { minimumLoa?: LoaUri; forceAuthn?: boolean; maxAge?: number } = {}) {
  const loginId = `ref-${Math.random().toString(36).slice(2)}`;
  const start = await adapter.startLogin({
    loginId,
    browserBinding: BROWSER,
    minimumLoa: options.minimumLoa ?? 'http://eidas.europa.eu/LoA/low',
    forceAuthn: options.forceAuthn ?? false,
    ...(options.maxAge === undefined ? {} : { maxAuthenticationAgeSeconds: options.maxAge }),
  });
  const url = new URL(start.binding === 'redirect' ? start.url : '');
  return { loginId, state: start.correlation, nonce: url.searchParams.get('nonce')!, url };
}

async function refused(params: Record<string, string>, code: string, loginId?: string) {
  const error = await adapter.finishLogin({ method: 'POST', params, browserBinding: BROWSER }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof AdapterError)) throw new Error(`expected an AdapterError, got ${String(error)}`);
  return { code: error.code === code, loginId: error.loginId === loginId, error };
}

const now = () => Math.floor(Date.now() / 1000);

test('the IdP is sent our audience, where to answer, a state, a nonce and the level', async (t) => {
  const { url, state } = await login({ minimumLoa: SUBSTANTIAL, forceAuthn: true });
  t.is(url.origin + url.pathname, 'https://reference-idp.test.example/authorize');
  t.is(url.searchParams.get('audience'), AUDIENCE);
  t.is(url.searchParams.get('response_uri'), endpoints.responseUrl);
  t.is(url.searchParams.get('state'), state);
  t.is(url.searchParams.get('loa'), SUBSTANTIAL);
  t.is(url.searchParams.get('prompt'), 'login');
});

test('each step of the table refuses with its own code', async (t) => {
  const cases: Array<
    [AdapterErrorCode, (l: Awaited<ReturnType<typeof login>>) => Promise<Record<string, string>>, boolean]
  > = [
    ['REF_TRANSPORT_INVALID', async (l) => ({ assertion: 'x.y.z', state: l.state, extra: '1' }), false],
    ['REF_TRANSPORT_INVALID', async (l) => ({ assertion: 'not a jws', state: l.state }), false],
    [
      'REF_ALG_NOT_ALLOWED',
      async (l) => {
        const { privateKey } = await generateKeyPair('EdDSA');
        const jws = await new CompactSign(new TextEncoder().encode('{}'))
          .setProtectedHeader({ alg: 'EdDSA', typ: ASSERTION_TYPE })
          .sign(privateKey);
        return { assertion: jws, state: l.state };
      },
      false,
    ],
    [
      'REF_ASSERTION_INVALID',
      async (l) => ({
        assertion: await idp.assertion({ audience: AUDIENCE, nonce: l.nonce }, {}, { header: { typ: 'JWT' } }),
        state: l.state,
      }),
      false,
    ],
    [
      'REF_ASSERTION_INVALID',
      async (l) => ({
        assertion: await idp.assertion({ audience: AUDIENCE, nonce: l.nonce }, { attributes: { shoe_size: ['42'] } }),
        state: l.state,
      }),
      false,
    ],
    [
      'REF_ASSERTION_INVALID',
      async (l) => ({
        assertion: await idp.assertion({ audience: AUDIENCE, nonce: l.nonce }, { exp: now() + 3600 }),
        state: l.state,
      }),
      false,
    ],
    [
      'REF_ISSUER_INVALID',
      async (l) => ({
        assertion: await idp.assertion({ audience: AUDIENCE, nonce: l.nonce }, { iss: 'https://evil.example' }),
        state: l.state,
      }),
      false,
    ],
    [
      'REF_NOT_YET_VALID',
      async (l) => ({
        assertion: await idp.assertion({ audience: AUDIENCE, nonce: l.nonce }, { iat: now() + 600, exp: now() + 700 }),
        state: l.state,
      }),
      false,
    ],
    [
      'REF_STATE_UNKNOWN',
      async (l) => ({ assertion: await idp.assertion({ audience: AUDIENCE, nonce: l.nonce }), state: 'never-issued' }),
      false,
    ],
    [
      'REF_NONCE_MISMATCH',
      async (l) => ({ assertion: await idp.assertion({ audience: AUDIENCE, nonce: 'another' }), state: l.state }),
      true,
    ],
  ];
  for (const [code, make, attributed] of cases) {
    const l = await login();
    const { error } = await refused(await make(l), code);
    t.is(error.code, code);
    t.is(error.loginId, attributed ? l.loginId : undefined, `${code}: attributed only after the state step`);
  }
});

test('the level is clipped to the IdP maximum, never raised, and must reach what the login asked', async (t) => {
  let l = await login({ minimumLoa: SUBSTANTIAL });
  const result = await adapter.finishLogin({
    method: 'POST',
    params: {
      assertion: await idp.assertion(
        { audience: AUDIENCE, nonce: l.nonce },
        { loa: 'http://eidas.europa.eu/LoA/high' },
      ),
      state: l.state,
    },
    browserBinding: BROWSER,
  });
  t.is(result.identity.loa, SUBSTANTIAL);
  l = await login({ minimumLoa: SUBSTANTIAL });
  const low = await idp.assertion({ audience: AUDIENCE, nonce: l.nonce }, { loa: 'http://eidas.europa.eu/LoA/low' });
  const { error } = await refused({ assertion: low, state: l.state }, 'REF_LOA_INSUFFICIENT');
  t.is(error.code, 'REF_LOA_INSUFFICIENT');
  t.is(error.loginId, l.loginId);
});

test('an authentication older than max_age, or older than a forced request, is REF_AUTHN_TOO_OLD', async (t) => {
  let l = await login({ maxAge: 60 });
  let old = await idp.assertion({ audience: AUDIENCE, nonce: l.nonce }, { auth_time: now() - 600 });
  t.is((await refused({ assertion: old, state: l.state }, 'REF_AUTHN_TOO_OLD')).error.code, 'REF_AUTHN_TOO_OLD');
  l = await login({ forceAuthn: true });
  old = await idp.assertion({ audience: AUDIENCE, nonce: l.nonce }, { auth_time: now() - 300 });
  t.is((await refused({ assertion: old, state: l.state }, 'REF_AUTHN_TOO_OLD')).error.code, 'REF_AUTHN_TOO_OLD');
});

test('a private key, or a key of another algorithm, is refused at boot with REF_CONFIG_INVALID', async (t) => {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  for (const jwk of [privateJwk, { kty: 'RSA', n: 'AQAB', e: 'AQAB' }]) {
    const error = await t.throwsAsync(createReferenceAdapter(entry(idp.publicKeyFile), jwk, endpoints, ctx), {
      instanceOf: AdapterError,
    });
    t.is(error?.code, 'REF_CONFIG_INVALID');
  }
});

test('the section is strict: the algorithm has no default, unknown keys are refused', (t) => {
  const schema = referenceSectionSchema({ baseDir: '/', issuer: 'https://gw.example' });
  const base = { ...entry(idp.publicKeyFile) } as Record<string, unknown>;
  t.true(schema.safeParse({ idps: [base] }).success);
  t.is(schema.parse({ idps: [base] }).audience, 'https://gw.example/reference');
  const noAlg = { ...base };
  delete noAlg.algorithm;
  t.deepEqual(schema.safeParse({ idps: [noAlg] }).error?.issues[0]?.path, ['idps', 0, 'algorithm']);
  t.is(schema.safeParse({ idps: [{ ...base, algorithm: 'HS256' }] }).success, false);
  t.is(schema.safeParse({ idps: [{ ...base, algorithm: 'none' }] }).success, false);
  t.is(schema.safeParse({ idps: [base], extra: 1 }).error?.issues[0]?.code, 'unrecognized_keys');
});
