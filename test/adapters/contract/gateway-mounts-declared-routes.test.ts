/**
 * The protocol-neutral seam (issue #11 item 4): the gateway serves the routes an upstream protocol declares
 * (`AdapterRoute`) without knowing the protocol, and the parts that mount and wire them (the app, the
 * interaction surface, the services record, boot, the configuration loader) never name SAML.
 */
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Koa from 'koa';
import type { AdapterRoute } from '../../../adapters/contract/routes.ts';
import { UPSTREAM_PROTOCOLS } from '../../../adapters/protocols/table.ts';
import { samlRoutes } from '../../../adapters/protocols/saml.ts';
import { errorHandler } from '../../../gateway/http/error-handler.ts';
import { upstreamRoutes } from '../../../gateway/interaction/upstream-routes.ts';
import { refuseRouteClash } from '../../../gateway/idps/start-idps.ts';
import { ConfigError } from '../../../gateway/errors.ts';
import { referenceRoutes } from '../../../adapters/protocols/reference.ts';
import type { Services } from '../../../gateway/services.ts';
import pino from 'pino';

async function serve(routes: AdapterRoute[]): Promise<{ url: string; close(): void }> {
  const app = new Koa();
  app.use(errorHandler(pino({ level: 'silent' })));
  const services = {
    upstreamRoutes: routes,
    config: { secrets: { browserBindingKey: 'b'.repeat(32) }, cookies: { secure: false } },
  } as unknown as Services;
  app.use(upstreamRoutes(services));
  app.use((ctx) => {
    ctx.status = 204;
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

const seen: Array<Record<string, string>> = [];
const ROUTES: AdapterRoute[] = [
  {
    kind: 'document',
    method: 'GET',
    path: '/proto-x/keys',
    serve: async () => ({
      status: 200,
      contentType: 'application/jwk-set+json',
      headers: { 'Cache-Control': 'public, max-age=60' },
      body: '{"keys":[]}',
    }),
  },
  {
    kind: 'endpoint',
    method: 'POST',
    path: '/proto-x/logout',
    maxBodyBytes: 64,
    handle: async (request) => {
      seen.push(request.params);
      return { status: 200, contentType: 'text/plain', headers: {}, body: `bye ${request.params.who ?? ''}` };
    },
  },
];

test('a declared document and endpoint are served as declared; other paths go on to the next middleware', async (t) => {
  const server = await serve(ROUTES);
  t.teardown(() => server.close());
  const document = await fetch(`${server.url}/proto-x/keys`);
  t.is(document.status, 200);
  t.is(document.headers.get('content-type'), 'application/jwk-set+json');
  t.is(document.headers.get('cache-control'), 'public, max-age=60');
  t.is(await document.text(), '{"keys":[]}');
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
  const endpoint = await fetch(`${server.url}/proto-x/logout`, { method: 'POST', headers: form, body: 'who=marie' });
  t.is(await endpoint.text(), 'bye marie');
  t.deepEqual(seen.at(-1), { who: 'marie' });
  t.is((await fetch(`${server.url}/proto-x/logout`)).status, 204, 'GET is not declared: not handled');
  t.is((await fetch(`${server.url}/elsewhere`)).status, 204);
  const duplicate = await fetch(`${server.url}/proto-x/logout`, { method: 'POST', headers: form, body: 'a=1&a=2' });
  t.is(duplicate.status, 400, 'a repeated parameter is refused before the adapter sees it');
  const big = await fetch(`${server.url}/proto-x/logout`, {
    method: 'POST',
    headers: form,
    body: 'x='.padEnd(100, 'y'),
  });
  t.is(big.status, 413, 'the declared body limit holds');
});

test('every protocol of the table declares its config key, schema and start; the SAML routes keep their URLs', (t) => {
  for (const protocol of UPSTREAM_PROTOCOLS) {
    t.is(typeof protocol.configKey, 'string');
    t.is(typeof protocol.configSchema, 'function');
    t.is(typeof protocol.start, 'function');
  }
  t.deepEqual(
    UPSTREAM_PROTOCOLS.map((p) => p.configKey),
    [...new Set(UPSTREAM_PROTOCOLS.map((p) => p.configKey))],
    'one section per protocol',
  );
  const publisher = {} as Parameters<typeof samlRoutes>[0];
  t.deepEqual(
    samlRoutes(publisher).map((route) => `${route.method} ${route.path} ${route.kind}`),
    ['POST /saml/acs login-response', 'GET /saml/metadata document'],
    'IdPs and deployments depend on these URLs',
  );
});

function sources(path: string): string[] {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path).flatMap((name) => sources(join(path, name)));
}

const LOGOUT = 'gateway/interaction/upstream-logout.ts';

test('the parts that mount and wire the upstream protocols never name SAML', (t) => {
  const neutral = [
    'gateway/app.ts',
    'gateway/services.ts',
    'gateway/boot.ts',
    'gateway/interaction',
    'gateway/config',
    'gateway/idps/start-idps.ts',
  ].flatMap(sources);
  const naming = neutral.filter((file) => file !== LOGOUT && /saml/i.test(readFileSync(file, 'utf8')));
  t.deepEqual(naming, []);
});

// A known gap, kept visible: SAML Single Logout (issue #12) was built beside the seam, in one gateway file that
// still names its protocol (its path, its parameters, its codes). This test fails until the logout endpoints
// are declared through the contract like the login-response routes; ava reports it as a known failure, and
// flags it the day it passes.
test.failing(
  'the upstream logout surface never names SAML either (known gap: Single Logout not yet through the seam)',
  (t) => {
    t.false(/saml/i.test(readFileSync(LOGOUT, 'utf8')));
  },
);

test('two protocols declaring one method and path refuse the boot; the two known protocols do not clash', (t) => {
  const saml = samlRoutes({} as Parameters<typeof samlRoutes>[0]);
  const reference = referenceRoutes({ audience: 'a', responseUrl: 'b' });
  t.notThrows(() => refuseRouteClash([...saml, ...reference, ...ROUTES]));
  const error = t.throws(() => refuseRouteClash([...saml, ...ROUTES, ROUTES[0]!]), { instanceOf: ConfigError });
  t.is(error?.code, 'CONFIG_INVALID');
  t.regex(error!.message, /GET \/proto-x\/keys/);
});
