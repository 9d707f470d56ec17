/**
 * The interaction and WebAuthn routes are @koa/router tables (issue #11 item 7), with the behaviour of the
 * hand-written matchers they replace: each listed method and path reaches its handler; another method on a
 * listed path, an interaction id of another shape, a trailing slash, another letter case and HEAD pass on to
 * oidc-provider, which answers exactly what it answers for a path nobody serves (no 405 of ours).
 */
import test from 'ava';
import type { Services } from '../../../gateway/services.ts';
import { startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(async () => {
  await fx?.stop();
});

/** What a request gets, as status + the `error` code of a JSON answer (or the content type). */
async function answer(method: string, path: string): Promise<string> {
  const response = await fetch(`${fx.url}${path}`, {
    method,
    redirect: 'manual',
    headers: { accept: 'application/json' },
  });
  const type = response.headers.get('content-type') ?? '';
  if (method === 'HEAD' || !type.includes('json')) {
    await response.body?.cancel();
    return `${response.status} ${type.split(';')[0]}`;
  }
  return `${response.status} ${((await response.json()) as { error?: string }).error}`;
}

/** The router's table as `METHOD path` rows (HEAD, which @koa/router adds to every GET, left out). */
function rows(router: { stack: ReadonlyArray<{ methods: string[]; path: string | RegExp }> }): string[] {
  return router.stack.flatMap((layer) =>
    layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${String(layer.path)}`),
  );
}

test('the interaction routes are one @koa/router table', async (t) => {
  // a dynamic import: on the hand-written matcher this module has no router to read back, and the test fails
  const { interactionRouter } = await import('../../../gateway/interaction/routes.ts');
  t.deepEqual(rows(interactionRouter({} as Services)), [
    'GET /interaction/:uid',
    'POST /interaction/:uid/idp',
    'GET /interaction/:uid/complete',
  ]); // the upstream protocols' routes (/saml/acs, /saml/metadata) are declared by the adapters (upstream-routes.ts)
});

test('the WebAuthn routes are one @koa/router table', async (t) => {
  const { webauthnRouter } = await import('../../../gateway/webauthn/routes.ts');
  const router = webauthnRouter({} as never);
  t.deepEqual(rows(router), [
    'GET /interaction/:uid/webauthn/authenticate',
    'POST /interaction/:uid/webauthn/authenticate',
    'GET /interaction/:uid/webauthn/register',
    'POST /interaction/:uid/webauthn/register',
    'GET /interaction/:uid/webauthn/credentials',
  ]);
});

test('a listed method and path reaches its handler', async (t) => {
  const nobody = await answer('GET', '/no-such-path');
  t.is(await answer('GET', '/saml/metadata'), '200 application/samlmetadata+xml');
  for (const [method, path] of [
    ['GET', '/interaction/abc'],
    ['POST', '/interaction/abc/idp'],
    ['GET', '/interaction/abc/complete'],
    ['POST', '/saml/acs'],
    ['GET', '/interaction/abc/webauthn/authenticate'],
    ['POST', '/interaction/abc/webauthn/authenticate'],
    ['GET', '/interaction/abc/webauthn/register'],
    ['POST', '/interaction/abc/webauthn/register'],
    ['GET', '/interaction/abc/webauthn/credentials'],
  ] as const) {
    const got = await answer(method, path);
    t.not(got, nobody, `${method} ${path} reaches a handler of ours (${got})`);
    // a code of the gateway's registry: the handler ran (an unknown interaction is 400 INTERACTION_NOT_FOUND)
    t.regex(got, /^[45]\d\d [A-Z_]+$/, `${method} ${path}: a gateway error code (no interaction here)`);
  }
});

test('anything else passes on to oidc-provider, which answers as for a path nobody serves', async (t) => {
  const nobody = await answer('GET', '/no-such-path');
  t.regex(nobody, /^404 /);
  const long = 'a'.repeat(65);
  for (const [method, path] of [
    // another method on a listed path: no 405 of ours
    ['PUT', '/interaction/abc'],
    ['POST', '/interaction/abc'],
    ['GET', '/interaction/abc/idp'],
    ['POST', '/interaction/abc/complete'],
    ['GET', '/saml/acs'],
    ['POST', '/saml/metadata'],
    ['DELETE', '/interaction/abc/webauthn/credentials'],
    ['PUT', '/interaction/abc/webauthn/register'],
    // an interaction id of another shape, a trailing slash, another case, an unlisted step
    ['GET', '/interaction/a.b'],
    ['GET', `/interaction/${long}`],
    ['GET', `/interaction/${long}/webauthn/authenticate`],
    ['GET', '/interaction/abc/'],
    ['GET', '/saml/metadata/'],
    ['GET', '/Interaction/abc'],
    ['GET', '/SAML/metadata'],
    ['GET', '/interaction/abc/webauthn/other'],
    ['GET', '/interaction/abc/webauthn/credentials/'],
  ] as const) {
    t.is(await answer(method, path), nobody, `${method} ${path}`);
  }
  // HEAD: @koa/router would run the GET handler; the hand-written matchers never did
  const headNobody = await answer('HEAD', '/no-such-path');
  for (const path of ['/saml/metadata', '/interaction/abc', '/interaction/abc/webauthn/authenticate'])
    t.is(await answer('HEAD', path), headNobody, `HEAD ${path}`);
});
