/**
 * RFC 9207 `iss` stays on every authorization response by default; a client configured with
 * `compatibility.errorResponseIss = "omit"` (mod_auth_openidc ≤ 2.4.12) gets its *error* responses without
 * `iss` — and still with `error` and `state` — while its success responses keep `iss`. An unknown value of
 * the switch is refused at boot.
 */
import test from 'ava';
import * as oidc from 'openid-client';
import { loadConfig } from '../../../gateway/config/load.ts';
import { ConfigError } from '../../../gateway/errors.ts';
import { Browser } from '../../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

let fx: GatewayFixture;
let legacy: oidc.Configuration;
test.before(async () => {
  fx = await startGatewayFixture({
    extraClients: [
      {
        client_id: 'legacy-apache-rp',
        client_secret: { env: 'GW_DEMO_RP_SECRET' },
        redirect_uris: [RP_REDIRECT],
        compatibility: { errorResponseIss: 'omit' },
      },
    ],
  });
  legacy = await oidc.discovery(new URL(fx.url), 'legacy-apache-rp', fx.deployment.env.GW_DEMO_RP_SECRET!, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
});
test.after.always(async () => {
  await fx?.stop();
});

const atRp = (u: URL) => u.toString().startsWith(RP_REDIRECT);

async function land(url: URL, browser = new Browser()): Promise<URL> {
  const hop = await browser.follow(url, {}, atRp);
  await hop.response.body?.cancel();
  return hop.url;
}

test('by default an error response carries iss', async (t) => {
  const request = await authorizationRequest(fx.rp, { prompt: 'none' });
  const url = await land(request.url);
  t.is(url.searchParams.get('error'), 'login_required');
  t.is(url.searchParams.get('iss'), fx.url);
});

test('the switched client gets its error without iss, with error and state', async (t) => {
  const request = await authorizationRequest(legacy, { prompt: 'none' });
  const url = await land(request.url);
  t.is(url.searchParams.get('error'), 'login_required');
  t.is(url.searchParams.get('state'), request.state);
  t.false(url.searchParams.has('iss'));
});

test('the switched client gets form_post errors without iss', async (t) => {
  const request = await authorizationRequest(legacy, { prompt: 'none', response_mode: 'form_post' });
  const response = await new Browser().follow(request.url, {}, atRp);
  const html = await response.response.text();
  t.regex(html, /name="error" value="login_required"/);
  t.notRegex(html, /name="iss"/);
});

test('the switched client still gets iss on a successful response', async (t) => {
  const request = await authorizationRequest(legacy);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.truthy(journey.url.searchParams.get('code'), journey.html.slice(0, 300));
  t.is(journey.url.searchParams.get('iss'), fx.url);
});

test('an unknown value of the switch is refused at boot, naming the field', (t) => {
  const raw = structuredClone(fx.deployment.rawConfig) as { clients: Array<Record<string, unknown>> };
  raw.clients[1]!.compatibility = { errorResponseIss: 'sometimes' };
  const error = t.throws(() => loadConfig(raw, { env: fx.deployment.env }), { instanceOf: ConfigError });
  t.is(error?.code, 'CONFIG_INVALID');
  t.is((error as ConfigError).path, 'clients[1].compatibility.errorResponseIss');
});
