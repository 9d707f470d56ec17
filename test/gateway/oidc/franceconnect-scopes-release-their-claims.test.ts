/**
 * FranceConnect's scope conventions (issue #13 item 4), so that an RP written for FranceConnect works
 * unchanged: single-claim scopes, `birth`, `identite_pivot`, `profile` (without the birth place), `amr`;
 * an unknown scope is ignored as OIDC Core §3.1.2.1 says — never silently: one log line names it; a client
 * registration naming an unknown scope is refused at boot; a registration for `profile` covers its
 * single-claim scopes and nothing more.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import * as oidc from 'openid-client';
import { pino } from 'pino';
import { loadConfig } from '../../../gateway/config/load.ts';
import { ConfigError } from '../../../gateway/errors.ts';
import { Browser } from '../../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../../helpers/gateway-fixture.ts';
import { permissivePolicyFile } from '../../helpers/permissive-policy.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

// Many logins of one person in a row: a policy that lets them through, so the tests see only the scopes.
const policyFile = join(mkdtempSync(join(tmpdir(), 'gw-policy-')), 'policy.json');
writeFileSync(
  policyFile,
  JSON.stringify({
    default: {
      thresholds: { stepUp: 0.99, biometric: 0.99, token: 0.99, review: 0.995, deny: 1 },
      tierLevels: [0, 0, 2, 3, 3],
    },
  }),
);
process.env.GW_RISK_POLICY_FILE = policyFile;

const lines: Array<Record<string, unknown>> = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n'))
      if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

let fx: GatewayFixture;
let classic: oidc.Configuration;
test.before(async () => {
  fx = await startGatewayFixture({
    boot: { logger: pino({ level: 'info' }, sink) },
    riskPolicyFile: permissivePolicyFile(), // many logins of one person: scopes are under test, not the policy
    extraClients: [
      {
        client_id: 'classic-rp',
        client_secret: { env: 'GW_DEMO_RP_SECRET' },
        redirect_uris: [RP_REDIRECT],
        scope: 'openid profile email',
      },
    ],
  });
  classic = await oidc.discovery(new URL(fx.url), 'classic-rp', fx.deployment.env.GW_DEMO_RP_SECRET!, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
});
test.after.always(async () => {
  await fx?.stop();
});

const PERSONAL = [
  'given_name',
  'family_name',
  'birthdate',
  'gender',
  'birthplace',
  'birthcountry',
  'preferred_username',
  'email',
];

async function claimsFor(
  scope: string,
  rp = fx.rp,
): Promise<{ claims: Record<string, unknown>; scope: string | undefined; url: URL }> {
  const request = await authorizationRequest(rp, { scope });
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  if (!journey.url.searchParams.get('code'))
    throw new Error(`no code for scope ${scope}: ${journey.url} ${journey.html.slice(0, 300)}`);
  const tokens = await oidc.authorizationCodeGrant(rp, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  return { claims: tokens.claims() as Record<string, unknown>, scope: tokens.scope, url: journey.url };
}

const released = (claims: Record<string, unknown>) => PERSONAL.filter((name) => name in claims).sort();

test("discovery announces FranceConnect's scopes", async (t) => {
  const discovery = (await (await fetch(`${fx.url}/.well-known/openid-configuration`)).json()) as {
    scopes_supported: string[];
  };
  for (const scope of [
    'openid',
    'profile',
    'birth',
    'identite_pivot',
    'amr',
    'given_name',
    'family_name',
    'birthdate',
    'gender',
    'birthplace',
    'birthcountry',
    'email',
    'preferred_username',
  ]) {
    t.true(discovery.scopes_supported.includes(scope), scope);
  }
});

test.serial('single-claim scopes and birth release exactly their claims', async (t) => {
  const { claims } = await claimsFor('openid given_name birth');
  t.deepEqual(released(claims), ['birthcountry', 'birthplace', 'given_name']);
  t.is(claims.given_name, 'Marie');
  t.is(claims.birthplace, '75056');
});

test.serial('identite_pivot releases the six pivot claims, profile the five without the birth place', async (t) => {
  t.deepEqual(released((await claimsFor('openid identite_pivot')).claims), [
    'birthcountry',
    'birthdate',
    'birthplace',
    'family_name',
    'gender',
    'given_name',
  ]);
  t.deepEqual(released((await claimsFor('openid profile')).claims), [
    'birthdate',
    'family_name',
    'gender',
    'given_name',
    'preferred_username',
  ]);
});

test.serial('the amr scope is understood and amr is in the ID token', async (t) => {
  const { claims, scope } = await claimsFor('openid amr');
  t.true(Array.isArray(claims.amr));
  t.regex(scope ?? '', /\bamr\b/);
});

test.serial('an unknown scope is ignored — the login succeeds, nothing is granted for it — and logged', async (t) => {
  const { url, scope } = await claimsFor('openid email fc_unknown_scope');
  t.truthy(url.searchParams.get('code'));
  t.notRegex(scope ?? '', /fc_unknown_scope/);
  const line = lines.find((l) => l.msg === 'scope ignored');
  t.deepEqual(line?.scopes, ['fc_unknown_scope']);
  t.is(line?.client_id, 'demo-rp');
  t.truthy(line?.requestId);
});

test.serial('a client registered for profile may ask for its single-claim scopes, not for birth', async (t) => {
  t.deepEqual(released((await claimsFor('openid family_name', classic)).claims), ['family_name']);
  const request = await authorizationRequest(classic, { scope: 'openid birth' });
  const hop = await new Browser().follow(request.url, {}, (u) => u.toString().startsWith(RP_REDIRECT));
  await hop.response.body?.cancel();
  t.is(hop.url.searchParams.get('error'), 'invalid_scope');
});

test('a client registered with an unknown scope is refused at boot, naming the field', (t) => {
  const raw = structuredClone(fx.deployment.rawConfig) as { clients: Array<Record<string, unknown>> };
  raw.clients[1]!.scope = 'openid profile identity';
  const error = t.throws(() => loadConfig(raw, { env: fx.deployment.env }), { instanceOf: ConfigError });
  t.is((error as ConfigError).path, 'clients[1].scope');
});
