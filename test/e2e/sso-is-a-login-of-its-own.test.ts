/**
 * No silent path to a token (issue #12 item 1): every authorization answered from an existing gateway
 * session is a login of its own in the state machine, through the risk pipeline and the RP's policy, with
 * each transition audited.
 *
 * - a person logs in to RP A at the IdP, then RP B in the same browser: B gets its code without going
 *   upstream, and the audit log holds B's own login, INITIATED → FRAUD_CHECK → TOKEN_GENERATION →
 *   COMPLETED, its FRAUD_CHECK naming the upstream evidence of the session it stands on;
 * - `prompt=none` to B: the same login of its own, and the code without any page;
 * - `prompt=none` to an RP that requires a higher acr than the session's: `login_required`, no code, and no
 *   login decided on the session;
 * - an RP whose policy denies: the SSO gets `access_denied` and no code (interactive and `prompt=none`), its
 *   login audited FRAUD_CHECK → FAILED with the policy's reason;
 * - `prompt=none` whose decision needs the person (a step-up, a manual review): `login_required` /
 *   `interaction_required`, no code, audited `SSO_LOGIN_REQUIRED` / `SSO_INTERACTION_REQUIRED`;
 * - a login of the same person on another device does not take this browser's session away.
 */
import test from 'ava';
import * as oidc from 'openid-client';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formsIn, type Browser } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';

// permissive for every RP (one person, many logins), except deny-rp, whose policy denies every login
const policyFile = join(mkdtempSync(join(tmpdir(), 'gw-policy-')), 'policy.json');
writeFileSync(
  policyFile,
  JSON.stringify({
    default: {
      thresholds: { stepUp: 0.99, biometric: 0.99, token: 0.99, review: 0.995, deny: 1 },
      tierLevels: [0, 0, 2, 3, 3],
    },
    clients: {
      'deny-rp': { thresholds: { stepUp: 0, biometric: 0, token: 0, review: 0, deny: 0 } },
      'review-rp': { thresholds: { stepUp: 0, biometric: 0, token: 0, review: 0, deny: 1 } },
      'stepup-rp': { thresholds: { stepUp: 0, biometric: 0.99, token: 0.99, review: 0.995, deny: 1 } },
    },
  }),
);

const client = (client_id: string, extra: Record<string, unknown> = {}) => ({
  client_id,
  client_secret: { env: 'GW_DEMO_RP_SECRET' },
  redirect_uris: [RP_REDIRECT],
  ...extra,
});

let fx: GatewayFixture;
const rps: Record<string, oidc.Configuration> = {};
test.before(async () => {
  fx = await startGatewayFixture({
    riskPolicyFile: policyFile,
    extraClients: [
      client('rp-b'),
      client('high-rp', { minimum_acr: 'eidas3' }),
      client('deny-rp'),
      client('review-rp'),
      client('stepup-rp'),
    ],
  });
  const secret = fx.deployment.env.GW_DEMO_RP_SECRET!;
  for (const id of ['rp-b', 'high-rp', 'deny-rp', 'review-rp', 'stepup-rp'])
    rps[id] = await oidc.discovery(new URL(fx.url), id, secret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
});
test.after.always(async () => {
  await fx?.stop();
});

const atRp = (u: URL) => u.toString().startsWith(RP_REDIRECT);

/** marie (LoA substantial → eidas2) logs in to RP A (demo-rp) at the IdP. */
async function loggedInToA(): Promise<{ browser: Browser; authTime: number; idToken: string }> {
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  if (!journey.url.searchParams.get('code')) throw new Error(`login to A failed: ${journey.url}`);
  const tokens = await oidc.authorizationCodeGrant(fx.rp, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  return { browser: journey.browser, authTime: Number(tokens.claims()!.auth_time), idToken: tokens.id_token! };
}

/** Follows redirects only (no form is submitted: a page would stop the walk). */
async function landing(browser: Browser, url: URL): Promise<{ url: URL; pages: number }> {
  const hop = await browser.follow(url, {}, atRp);
  const pages = atRp(hop.url) ? 0 : 1;
  await hop.response.body?.cancel();
  return { url: hop.url, pages };
}

/** The newest login started for a client, and its audited transitions. */
async function lastLoginOf(clientId: string, after: number) {
  const pool = fx.gateway.services.pool;
  const { rows } = await pool.query<{ session_id: string }>(
    `select session_id from audit_log where to_state = 'INITIATED' and details->>'clientId' = $1 and id > $2
     order by id desc limit 1`,
    [clientId, after],
  );
  if (rows.length === 0) return null;
  const loginId = rows[0]!.session_id;
  const transitions = await pool.query<{
    from_state: string | null;
    to_state: string;
    error_code: string | null;
    details: Record<string, unknown>;
  }>('select from_state, to_state, error_code, details from audit_log where session_id = $1 order by id', [loginId]);
  return { loginId, rows: transitions.rows, path: transitions.rows.map((r) => `${r.from_state ?? '∅'}→${r.to_state}`) };
}

async function lastAuditId(): Promise<number> {
  const { rows } = await fx.gateway.services.pool.query<{ id: string }>(
    'select coalesce(max(id), 0) as id from audit_log',
  );
  return Number(rows[0]!.id);
}

test.serial(
  'RP B in the same browser gets its code through a login of its own, audited with FRAUD_CHECK',
  async (t) => {
    const { browser, authTime } = await loggedInToA();
    const mark = await lastAuditId();
    const request = await authorizationRequest(rps['rp-b']!);
    const { url } = await landing(browser, request.url);
    t.truthy(url.searchParams.get('code'), `B gets a code without going upstream (landed on ${url})`);
    const tokens = await oidc.authorizationCodeGrant(rps['rp-b']!, url, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    const claims = tokens.claims()!;
    t.is(claims.acr, 'eidas2', "the session's acr");
    t.is(Number(claims.auth_time), authTime, 'auth_time stays the upstream authentication');
    const login = await lastLoginOf('rp-b', mark);
    t.truthy(login, "B's login is in the audit log");
    t.deepEqual(login!.path, [
      '∅→INITIATED',
      'INITIATED→FRAUD_CHECK',
      'FRAUD_CHECK→TOKEN_GENERATION',
      'TOKEN_GENERATION→COMPLETED',
    ]);
    const fraudCheck = login!.rows.find((r) => r.to_state === 'FRAUD_CHECK')!;
    t.is(fraudCheck.details.sso, true, 'FRAUD_CHECK says the login stands on a session');
    t.is(fraudCheck.details.idp, 'demo-idp');
    t.truthy(fraudCheck.details.assertionId, "FRAUD_CHECK names the session's upstream evidence");
    const { rows } = await fx.gateway.services.pool.query('select decision from risk_assessments where login_id = $1', [
      login!.loginId,
    ]);
    t.is(rows[0]?.decision, 'allow', "B's request was assessed by the risk pipeline");
  },
);

test.serial('prompt=none to RP B: a login of its own too, and the code without any page', async (t) => {
  const { browser } = await loggedInToA();
  const mark = await lastAuditId();
  const request = await authorizationRequest(rps['rp-b']!, { prompt: 'none' });
  const { url, pages } = await landing(browser, request.url);
  t.is(pages, 0);
  t.truthy(url.searchParams.get('code'), `landed on ${url}`);
  t.is(url.searchParams.get('state'), request.state);
  const login = await lastLoginOf('rp-b', mark);
  t.deepEqual(login?.path, [
    '∅→INITIATED',
    'INITIATED→FRAUD_CHECK',
    'FRAUD_CHECK→TOKEN_GENERATION',
    'TOKEN_GENERATION→COMPLETED',
  ]);
});

test.serial('the same RP again (prompt=none) is a login of its own as well', async (t) => {
  const { browser } = await loggedInToA();
  const mark = await lastAuditId();
  const request = await authorizationRequest(fx.rp, { prompt: 'none' });
  const { url } = await landing(browser, request.url);
  t.truthy(url.searchParams.get('code'), `landed on ${url}`);
  const login = await lastLoginOf('demo-rp', mark);
  t.deepEqual(login?.path.slice(0, 2), ['∅→INITIATED', 'INITIATED→FRAUD_CHECK']);
  t.is(login?.path.at(-1), 'TOKEN_GENERATION→COMPLETED');
});

test.serial(
  'prompt=none to an RP requiring a higher acr than the session holds: login_required, no code',
  async (t) => {
    const { browser } = await loggedInToA();
    const mark = await lastAuditId();
    for (const [rp, extra] of [
      [rps['high-rp']!, {}],
      [rps['rp-b']!, { acr_values: 'eidas3' }],
    ] as const) {
      const request = await authorizationRequest(rp, { prompt: 'none', ...extra });
      const { url } = await landing(browser, request.url);
      t.false(url.searchParams.has('code'));
      t.is(url.searchParams.get('error'), 'login_required');
      t.is(url.searchParams.get('state'), request.state);
    }
    t.is(await lastLoginOf('high-rp', mark), null, 'no login is decided on a session too weak for the RP');
  },
);

test.serial('an RP requiring a higher acr than the session holds sends the person upstream again', async (t) => {
  const { browser } = await loggedInToA();
  const request = await authorizationRequest(rps['high-rp']!);
  const hop = await browser.follow(request.url, {}, atRp);
  const forms = formsIn(await hop.response.text());
  t.false(hop.url.searchParams.has('code'));
  t.true(
    forms.some((f) => f.action.endsWith('/idp') || 'SAMLRequest' in f.fields),
    'the chooser of IdPs, or the AuthnRequest to the IdP',
  );
});

test.serial('an essential acr of the claims parameter is a floor, as acr_values are', async (t) => {
  // attacker review, twenty-ninth round: oidc-provider's exact-match checks sent such a login back to the login page
  const { browser } = await loggedInToA(); // eidas2
  const essential = (acr: Record<string, unknown>) => ({
    prompt: 'none',
    claims: JSON.stringify({ id_token: { acr: { essential: true, ...acr } } }),
  });
  for (const acr of [{ values: ['eidas1'] }, { value: 'eidas2' }, { values: ['eidas3', 'eidas2'] }]) {
    const request = await authorizationRequest(rps['rp-b']!, essential(acr));
    const { url } = await landing(browser, request.url);
    t.truthy(url.searchParams.get('code'), `${JSON.stringify(acr)}: the eidas2 session stands (${url})`);
  }
  const higher = await authorizationRequest(rps['rp-b']!, essential({ value: 'eidas3' }));
  const { url } = await landing(browser, higher.url);
  t.is(url.searchParams.get('error'), 'login_required', 'eidas3 asked this way only: the session is too weak');
});

test.serial('a malformed acr in the claims parameter is invalid_request, never read as no level asked', async (t) => {
  // attacker review, thirty-ninth round: `values` as a string, or an empty `value`, fell back to the client's default
  // level (or overrode acr_values=eidas3) without a word
  const { browser } = await loggedInToA();
  for (const acr of [{ values: 'eidas3' }, { value: '' }, { values: [] }, { values: [''] }, { essential: 'yes' }]) {
    const claims = JSON.stringify({ id_token: { acr: { essential: true, ...acr } } });
    const request = await authorizationRequest(rps['rp-b']!, { acr_values: 'eidas3', claims });
    const { url } = await landing(browser, request.url);
    t.is(url.searchParams.get('code'), null, JSON.stringify(acr));
    t.is(url.searchParams.get('error'), 'invalid_request', `${JSON.stringify(acr)}: ${url}`);
  }
});

test.serial('a risk deny on the SSO request yields no code (interactive and prompt=none)', async (t) => {
  const { browser } = await loggedInToA();
  for (const extra of [{}, { prompt: 'none' }] as Record<string, string>[]) {
    const mark = await lastAuditId();
    const request = await authorizationRequest(rps['deny-rp']!, extra);
    const { url } = await landing(browser, request.url);
    t.false(url.searchParams.has('code'), JSON.stringify(extra));
    t.is(url.searchParams.get('error'), 'access_denied', JSON.stringify(extra));
    t.is(url.searchParams.get('state'), request.state);
    const login = await lastLoginOf('deny-rp', mark);
    t.deepEqual(login?.path, ['∅→INITIATED', 'INITIATED→FRAUD_CHECK', 'FRAUD_CHECK→FAILED'], JSON.stringify(extra));
    t.is(login?.rows.at(-1)?.error_code, 'RISK_TOO_HIGH');
  }
});

test.serial("a login of the same person on another device keeps this browser's session standing", async (t) => {
  const { browser } = await loggedInToA();
  await new Promise((resolve) => setTimeout(resolve, 1_100)); // another auth_time
  await loggedInToA(); // the same person, another browser
  const request = await authorizationRequest(rps['rp-b']!, { prompt: 'none' });
  const { url } = await landing(browser, request.url);
  t.truthy(url.searchParams.get('code'), `the first browser's session still stands on its own evidence (${url})`);
});

test.serial('prompt=none whose decision needs the person: no code, the RP told why, the login audited', async (t) => {
  const { browser } = await loggedInToA();
  for (const [rp, error, code] of [
    ['stepup-rp', 'login_required', 'SSO_LOGIN_REQUIRED'], // a step-up at the IdP
    ['review-rp', 'interaction_required', 'SSO_INTERACTION_REQUIRED'], // a manual review
  ] as const) {
    const mark = await lastAuditId();
    const request = await authorizationRequest(rps[rp]!, { prompt: 'none' });
    const { url } = await landing(browser, request.url);
    t.false(url.searchParams.has('code'), rp);
    t.is(url.searchParams.get('error'), error, rp);
    const login = await lastLoginOf(rp, mark);
    t.deepEqual(login?.path, ['∅→INITIATED', 'INITIATED→FRAUD_CHECK', 'FRAUD_CHECK→FAILED'], rp);
    t.is(login?.rows.at(-1)?.error_code, code, rp);
  }
});

test.serial(
  'an interactive request on a session goes from the authorization request straight to the resume: no interaction page',
  async (t) => {
    const { browser } = await loggedInToA();
    const request = await authorizationRequest(rps['rp-b']!);
    const from = browser.trail.length;
    const { url } = await landing(browser, request.url);
    t.truthy(url.searchParams.get('code'), `landed on ${url}`);
    const gateway = browser.trail
      .slice(from)
      .filter((line) => line.startsWith(`GET ${fx.url}`) || line.startsWith(`POST ${fx.url}`))
      .map((line) =>
        line
          .replace(fx.url, '')
          .replace(/\?.*$/, '')
          .replace(/\/auth\/[^/]+$/, '/auth/:uid'),
      );
    t.deepEqual(gateway, ['GET /auth', 'GET /auth/:uid'], 'two gateway requests before the RP (and /token)');
  },
);

test.serial('an interactive request on a session whose decision needs the person reaches its page', async (t) => {
  const { browser } = await loggedInToA();
  for (const [rp, heading] of [
    ['review-rp', 'Your sign-in is being checked'], // a manual review: its waiting page
    ['stepup-rp', 'Une vérification supplémentaire est nécessaire'], // a step-up at the IdP: the page that explains it
  ] as const) {
    const request = await authorizationRequest(rps[rp]!, {});
    const hop = await browser.follow(request.url, {}, atRp);
    const body = await hop.response.text();
    t.false(atRp(hop.url), `${rp}: a page, not the RP (${hop.url})`);
    t.is(hop.response.status, 200, `${rp}: ${body.slice(0, 300)}`);
    t.true(body.includes(heading), `${rp}: ${body.slice(0, 300)}`);
  }
});

/** The account a browser's session stands for (found by its ID token's `sid`), and its stored identity. */
async function accountOf(idToken: string) {
  const { sid } = JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString()) as { sid: string };
  const { sessions, accounts } = fx.gateway.services;
  const accountId = (await sessions.store.findSession<{ accountId: string }>('sid', sid))!.payload.accountId;
  return { accountId, account: (await accounts.load(accountId))! };
}

test.serial(
  'an SSO login says the level this session reached, not a higher one the person reached on another device',
  async (t) => {
    const { browser, idToken } = await loggedInToA(); // eidas2 in this browser
    const { accountId, account } = await accountOf(idToken);
    t.is(account.pivot.acr, 'eidas2');
    // what a later eidas3 login of the same person on another device leaves in the account: its pivot
    await fx.gateway.services.accounts.save(accountId, { ...account, pivot: { ...account.pivot, acr: 'eidas3' } });
    const request = await authorizationRequest(rps['rp-b']!);
    const { url } = await landing(browser, request.url);
    t.truthy(url.searchParams.get('code'), `B gets a code on the session (landed on ${url})`);
    const tokens = await oidc.authorizationCodeGrant(rps['rp-b']!, url, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    t.is(tokens.claims()!.acr, 'eidas2', "the session's own level");
  },
);
