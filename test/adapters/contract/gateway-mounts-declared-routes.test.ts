/**
 * The protocol-neutral seam (issue #11 item 4): the gateway serves the routes an upstream protocol declares
 * (`AdapterRoute`) without knowing the protocol, and the parts that mount and wire them (the app, the
 * interaction surface, the services record, boot, the configuration loader) never name SAML.
 */
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Koa from 'koa';
import {
  AdapterError,
  AnsweredLogoutRefusal,
  type UpstreamAdapter,
  type UpstreamLogoutCapability,
} from '../../../adapters/contract.ts';
import type { AdapterRoute, LogoutRoute } from '../../../adapters/contract/routes.ts';
import { AdapterRegistry } from '../../../adapters/registry.ts';
import { UPSTREAM_PROTOCOLS } from '../../../adapters/protocols/table.ts';
import { samlRoutes } from '../../../adapters/protocols/saml.ts';
import { errorHandler } from '../../../gateway/http/error-handler.ts';
import { upstreamRoutes } from '../../../gateway/interaction/upstream-routes.ts';
import { refuseRouteClash } from '../../../gateway/idps/start-idps.ts';
import { ConfigError } from '../../../gateway/errors.ts';
import { referenceRoutes } from '../../../adapters/protocols/reference.ts';
import type { Services } from '../../../gateway/services.ts';
import pino from 'pino';

async function serve(
  routes: AdapterRoute[],
  more: Partial<Record<'adapters' | 'audit' | 'metrics' | 'logger', unknown>> = {},
): Promise<{ url: string; close(): void }> {
  const app = new Koa();
  app.use(errorHandler(pino({ level: 'silent' })));
  const services = {
    upstreamRoutes: routes,
    config: {
      secrets: { browserBindingKey: 'b'.repeat(32), previousBrowserBindingKeys: [] },
      cookies: { secure: false },
    },
    ...more,
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
    ['POST /saml/acs login-response', 'GET /saml/metadata document', 'GET /saml/slo logout', 'POST /saml/slo logout'],
    'IdPs and deployments depend on these URLs (the SingleLogoutService is in our published metadata)',
  );
});

function sources(path: string): string[] {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path).flatMap((name) => sources(join(path, name)));
}

/** The gateway's Single Logout files (`upstream-logout.ts` lists them). */
const LOGOUT = [
  'upstream-logout.ts',
  'upstream-logout-parts.ts',
  'upstream-logout-audit.ts',
  'idp-logout-request.ts',
  'idp-logout-response.ts',
  'logout-way-back.ts',
  'upstream-logout-in-provider.ts',
  'upstream-session-records.ts',
].map((file) => `gateway/interaction/${file}`);

test('the parts that mount and wire the upstream protocols never name SAML', (t) => {
  const neutral = [
    'gateway/app.ts',
    'gateway/services.ts',
    'gateway/boot.ts',
    'gateway/interaction',
    'gateway/config',
    'gateway/idps/start-idps.ts',
  ].flatMap(sources);
  const naming = neutral.filter((file) => /saml/i.test(readFileSync(file, 'utf8')));
  t.deepEqual(naming, []);
});

// Single Logout (issue #12) goes through the seam like the login-response routes: the protocol declares its
// `logout` route (its path, how a message's direction and relay value are read, its code for an unknown sender)
// and each adapter its capability; the gateway's logout files name no protocol, no parameter, no code of one.
test('the upstream logout surface never names SAML either', (t) => {
  const source = LOGOUT.map((file) => readFileSync(file, 'utf8')).join('\n');
  t.false(/saml/i.test(source));
  t.false(/RelayState|SAMLRequest|SAMLResponse|\/slo\b/.test(source), 'no protocol parameter or path');
  t.regex(source, /route\.direction\(/, 'the direction comes from the declared route');
  t.regex(source, /route\.codes\.issuerUnknown/, 'the unknown-sender code comes from the declared route');
});

test('two protocols declaring one method and path refuse the boot; the two known protocols do not clash', (t) => {
  const saml = samlRoutes({} as Parameters<typeof samlRoutes>[0]);
  const reference = referenceRoutes({ audience: 'a', responseUrl: 'b' });
  t.notThrows(() => refuseRouteClash([...saml, ...reference, ...ROUTES]));
  const error = t.throws(() => refuseRouteClash([...saml, ...ROUTES, ROUTES[0]!]), { instanceOf: ConfigError });
  t.is(error?.code, 'CONFIG_INVALID');
  t.regex(error!.message, /GET \/proto-x\/keys/);
});

// A made-up protocol's logout door, served by the gateway through the contract alone: the route says which way a
// message goes and the code for a sender nobody names; each adapter's capability decides (offered or not).
function protoXAdapter(id: string, logout: UpstreamLogoutCapability): UpstreamAdapter {
  const never = () => Promise.reject(new Error('not used'));
  return {
    id,
    kind: 'proto-x',
    displayName: id,
    maxLoa: 'http://eidas.europa.eu/LoA/low',
    startLogin: never,
    finishLogin: never,
    metadata: never,
    logout,
  };
}

const PROTO_X_LOGOUT: LogoutRoute = {
  kind: 'logout',
  method: 'POST',
  path: '/proto-x/logout',
  maxBodyBytes: 1024,
  direction: (params) => {
    if (params.ask !== undefined) return 'request';
    if (params.told !== undefined) return 'response';
    throw new AdapterError('REF_TRANSPORT_INVALID', 'neither', {});
  },
  correlation: (params) => params.relay,
  codes: { issuerUnknown: 'REF_ISSUER_INVALID' },
};

test('a declared logout route reaches the adapter its message names; refusals are answered or paged by the adapter', async (t) => {
  const audited: Array<{ to: string; errorCode?: string; details: Record<string, unknown> }> = [];
  const asked: string[] = [];
  const registry = new AdapterRegistry();
  registry.register(
    protoXAdapter('x-none', { offered: false, notOfferedCode: 'REF_LOGOUT_UNSUPPORTED', reason: 'declared none' }),
  );
  registry.register(
    protoXAdapter('x-idp', {
      offered: true,
      notOfferedCode: 'REF_LOGOUT_UNSUPPORTED',
      names: (message) => (asked.push(message.params.ask ?? ''), message.params.ask?.startsWith('x-idp') === true),
      startLogout: async () => null,
      finishLogout: async () => ({ logoutId: 'l' }),
      answerLogout: async (message) => {
        if (message.params.ask === 'x-idp:stale')
          throw new AnsweredLogoutRefusal(new AdapterError('REF_EXPIRED', 'stale', {}), {
            binding: 'post',
            url: 'https://x-idp.example/logout',
            fields: { verdict: 'denied' },
          });
        throw new AdapterError('REF_SIGNATURE_INVALID', 'forged', {});
      },
    }),
  );
  const server = await serve([PROTO_X_LOGOUT], {
    adapters: registry,
    audit: { append: async (entry: (typeof audited)[number]) => void audited.push(entry) },
    metrics: { upstreamRejected: () => undefined },
    logger: pino({ level: 'silent' }),
  });
  t.teardown(() => server.close());
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
  const post = (body: string) => fetch(`${server.url}/proto-x/logout`, { method: 'POST', headers: form, body });

  const answered = await post('ask=x-idp:stale');
  t.is(answered.status, 200, 'a refusal the adapter answers goes back to its IdP');
  const html = await answered.text();
  t.regex(html, /action="https:\/\/x-idp\.example\/logout"/);
  t.regex(html, /name="verdict" value="denied"/);
  t.like(audited.at(-1), { to: 'UPSTREAM_LOGOUT_REFUSED', errorCode: 'REF_EXPIRED', details: { answered: true } });

  const paged = await post('ask=x-idp:forged');
  t.is(paged.status, 400, 'a refusal the adapter cannot answer is the page');
  t.regex(await paged.text(), /REF_SIGNATURE_INVALID/);
  t.like(audited.at(-1), { errorCode: 'REF_SIGNATURE_INVALID', details: { answered: false } });

  const nobody = await post('ask=stranger');
  t.is(nobody.status, 400);
  t.regex(await nobody.text(), /REF_ISSUER_INVALID/, "the route's own code for a sender nobody names");
  t.deepEqual(asked, ['x-idp:stale', 'x-idp:forged', 'stranger'], 'an adapter that offers no logout is never asked');

  const neither = await post('what=1');
  t.is(neither.status, 400);
  t.regex(await neither.text(), /REF_TRANSPORT_INVALID/, "the route's direction refuses a message of neither kind");
});
