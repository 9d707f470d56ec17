/**
 * Issue #15, the "Answers" rule for a login that meets a dependency going away mid-way: PostgreSQL (a server
 * of this test's own) is stopped while the person is at the IdP, so the gateway meets it at the ACS or at
 * the completion step (`DATABASE_UNAVAILABLE`, 503). The flow store (Redis) is still reachable, so:
 * - the login ends FAILED at once, with the code (not 300 s later by the sweeper with FLOW_TIMEOUT);
 * - the browser goes back to the RP with `error=temporarily_unavailable`, its `state` and `iss` (not a page);
 * - no code, no token; once PostgreSQL is back the spooled audit trail holds FAILED with the code, no COMPLETED;
 * - an SSO request, now decided in the authorization request itself (issue #14), answers the RP the same way.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { createPool } from '../../gateway/store/postgres.ts';
import { prepareDeployment, startGatewayInProcess } from '../harness/deployment.ts';
import { freePort } from '../harness/services/free-port.ts';
import { startPostgres, type PostgresHandle } from '../harness/services/postgres.ts';
import { migratedDatabase } from '../harness/services/template-database.ts';
import { Browser, formsIn } from '../helpers/browser.ts';
import { authorizationRequest, RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';
import { permissivePolicyFile } from '../helpers/permissive-policy.ts';
import { freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';

async function until(check: () => Promise<boolean> | boolean, what: string, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i += 1) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function bed(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'gw-unavail-'));
  const pgDir = mkdtempSync(join(tmpdir(), 'gw-unavail-db-')); // its own: this test stops it
  const handle: { server: PostgresHandle } = { server: null as unknown as PostgresHandle };
  handle.server = await startPostgres(pgDir, await freePort());
  t.teardown(() => handle.server.stop().catch(() => undefined));
  const pgUrl = await migratedDatabase(handle.server.url);

  const deployment = await prepareDeployment({
    dir,
    pgUrl,
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    rpRedirectUri: RP_REDIRECT,
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
    riskPolicyFile: permissivePolicyFile(dir),
  });
  t.teardown(() => deployment.stop());
  const running = await startGatewayInProcess(deployment);
  t.teardown(() => running.stop());
  const rp = await oidc.discovery(
    new URL(running.url),
    deployment.client.client_id,
    deployment.client.client_secret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  const { services } = running.gateway;

  const warm = await loginJourney((await authorizationRequest(rp)).url, { username: 'jean', redirectUri: RP_REDIRECT });
  t.truthy(warm.url.searchParams.get('code'), `a login before the outage (warms keys and DEKs): ${warm.url}`);
  return { handle, pgDir, pgUrl, running, rp, services, browser: warm.browser };
}

/** The person's way up to the completion step (the ACS answered, its redirect not yet followed). */
async function toTheCompletionStep(url: URL): Promise<{ browser: Browser; complete: URL }> {
  const browser = new Browser();
  // the completion step runs in oidc-provider's resume request (interaction/resume-completion.ts)
  const stop = (u: URL) => u.pathname.startsWith('/auth/') || u.toString().startsWith(RP_REDIRECT);
  const only = (html: string) => formsIn(html)[0]!;
  let step = await browser.follow(url, {}, stop);
  let html = await step.response.text();
  if (formsIn(html).some((f) => f.action.endsWith('/idp'))) {
    step = await browser.submit(only(html), step.url, { idp: 'demo-idp' }, stop);
    html = await step.response.text();
  }
  step = await browser.submit(only(html), step.url, {}, stop); // the AuthnRequest auto-post → the IdP's form
  html = await step.response.text();
  step = await browser.submit(only(html), step.url, { username: 'jean', password: 'jean-demo' }, stop);
  html = await step.response.text();
  step = await browser.submit(only(html), step.url, {}, stop); // the SAMLResponse → the ACS
  return { browser, complete: step.url };
}

/** Once PostgreSQL is back: the spooled trail reaches the log, FAILED with the code, never COMPLETED. */
async function trailAfterRestart(t: ExecutionContext, b: Awaited<ReturnType<typeof bed>>, loginId: string) {
  b.handle.server = await startPostgres(b.pgDir, b.handle.server.port);
  const { audit } = b.services;
  await until(async () => (await audit.replaySpool(), !audit.hasSpooled()), 'the audit spool to drain');
  const pool = createPool(b.pgUrl);
  t.teardown(() => pool.end());
  const { rows } = await pool.query<{ to_state: string; error_code: string | null }>(
    'select to_state, error_code from audit_log where session_id = $1 order by seq',
    [loginId],
  );
  t.like(rows.at(-1), { to_state: 'FAILED', error_code: 'DATABASE_UNAVAILABLE' });
  t.false(
    rows.some((r) => r.to_state === 'COMPLETED'),
    JSON.stringify(rows),
  );
}

test.serial(
  'PostgreSQL stopped mid-login: FAILED at once with the code, the RP gets temporarily_unavailable with state and iss',
  async (t) => {
    const b = await bed(t);
    const { rp, running, services } = b;

    const request = await authorizationRequest(rp);
    const journey = await loginJourney(request.url, {
      username: 'jean',
      redirectUri: RP_REDIRECT,
      beforeAcs: async (form) => {
        await b.handle.server.stop(); // the person is at the IdP when PostgreSQL goes away
        return form;
      },
    });
    t.true(
      journey.url.toString().startsWith(RP_REDIRECT),
      `back at the RP, not a page: ${journey.status} ${journey.url}
${journey.html.slice(0, 600)}`,
    );
    t.is(journey.url.searchParams.get('error'), 'temporarily_unavailable');
    t.is(journey.url.searchParams.get('state'), request.state);
    t.is(journey.url.searchParams.get('iss'), running.url);
    t.is(journey.url.searchParams.get('code'), null, 'never a code');

    const record = await services.flow.get(journey.loginId!);
    t.is(record?.state, 'FAILED', 'failed at once, not left to the sweeper');
    t.is(record?.errorCode, 'DATABASE_UNAVAILABLE');

    await trailAfterRestart(t, b, journey.loginId!);
  },
);

test.serial(
  'PostgreSQL stopped before the completion step: FAILED at once, the RP gets temporarily_unavailable',
  async (t) => {
    const b = await bed(t);
    const request = await authorizationRequest(b.rp);
    const { browser, complete } = await toTheCompletionStep(request.url);
    t.true(complete.pathname.startsWith('/auth/'), `the ACS sent the browser on to the resume: ${complete}`);
    const loginId = complete.pathname.split('/')[2]!;
    await b.handle.server.stop(); // the account cannot be stored now
    const end = await browser.follow(complete, {}, (u) => u.toString().startsWith(RP_REDIRECT));
    t.true(end.url.toString().startsWith(RP_REDIRECT), `back at the RP, not a page: ${end.response.status} ${end.url}`);
    t.is(end.url.searchParams.get('error'), 'temporarily_unavailable');
    t.is(end.url.searchParams.get('state'), request.state);
    t.is(end.url.searchParams.get('iss'), b.running.url);
    t.is(end.url.searchParams.get('code'), null, 'never a code');
    const record = await b.services.flow.get(loginId);
    t.is(record?.state, 'FAILED', 'failed at once, not left to the sweeper');
    t.is(record?.errorCode, 'DATABASE_UNAVAILABLE');
    await trailAfterRestart(t, b, loginId);
  },
);

test.serial(
  'PostgreSQL stopped before an SSO request: decided in the authorization request, the RP gets temporarily_unavailable',
  async (t) => {
    const b = await bed(t);
    await b.handle.server.stop(); // the person's session stands; the SSO login cannot be stored now
    const request = await authorizationRequest(b.rp);
    const end = await b.browser.follow(request.url, {}, (u) => u.toString().startsWith(RP_REDIRECT));
    t.true(end.url.toString().startsWith(RP_REDIRECT), `back at the RP, not a page: ${end.response.status} ${end.url}`);
    t.is(end.url.searchParams.get('error'), 'temporarily_unavailable');
    t.is(end.url.searchParams.get('state'), request.state);
    t.is(end.url.searchParams.get('code'), null, 'never a code');
  },
);
