/**
 * A gateway process killed with SIGKILL in the middle of a login (issue #15, failure table): the login it
 * started finishes on the other process (all state is in Redis and PostgreSQL, nothing in the dead
 * process), with its whole audit trail, and the other process's own logins are unaffected.
 */
import test from 'ava';
import * as oidc from 'openid-client';
import type { RoundRobinProxy } from '../harness/services/round-robin-proxy.ts';
import type { Form } from '../helpers/browser.ts';
import { loginJourney } from '../helpers/login-journey.ts';
import { startTwoGateways, type TwoGateways } from '../helpers/two-gateways.ts';
import { createPool } from '../../gateway/store/postgres.ts';

const RP = 'http://127.0.0.1:9/callback';
let pair: TwoGateways<'process'>;
let deployment: TwoGateways<'process'>['deployment'];
let a: TwoGateways<'process'>['a'];
let b: TwoGateways<'process'>['b'];
let balancer: RoundRobinProxy;
let pgUrl: string;

test.before(async () => {
  pair = await startTwoGateways({
    name: 'gw-kill-',
    first: 'process',
    balanced: true,
    rpRedirectUri: RP,
    logLevel: 'warn',
  });
  ({ deployment, a, b, pgUrl } = pair);
  balancer = pair.balancer!;
});
test.after.always(async () => {
  await pair?.stop();
});

async function authorizationUrl(rp: oidc.Configuration): Promise<{ url: URL; verifier: string }> {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: RP,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: oidc.randomState(),
  });
  return { url, verifier };
}

test.serial(
  'a login whose process is killed with SIGKILL before the IdP answers finishes on the other process, fully audited',
  async (t) => {
    pair.backends = [b.url]; // every step so far on b
    const rp = await oidc.discovery(
      new URL(deployment.gatewayUrl),
      deployment.client.client_id,
      deployment.client.client_secret,
      undefined,
      { execute: [oidc.allowInsecureRequests] },
    );
    const { url } = await authorizationUrl(rp);
    const journey = await loginJourney(url, {
      username: 'jean',
      redirectUri: RP,
      beforeAcs: async (form: Form) => {
        // b dies without a chance to clean up; the balancer's health check would take it out: here, at once
        const exited = new Promise((resolve) => b.child.once('exit', resolve));
        b.child.kill('SIGKILL');
        await exited;
        pair.backends = [a.url];
        return form;
      },
    });
    t.is(b.child.signalCode, 'SIGKILL');
    t.truthy(journey.url.searchParams.get('code'), `the login finished on a (${journey.url})`);
    t.is((balancer.served.get(a.url) ?? 0) > 0, true);

    const pool = createPool(pgUrl, { max: 1 });
    t.teardown(() => pool.end());
    const { rows } = await pool.query<{ to_state: string }>(
      'select to_state from audit_log where session_id = $1 order by id',
      [journey.loginId],
    );
    const trail = rows.map((r) => r.to_state);
    t.deepEqual(
      trail.filter((s) => ['INITIATED', 'AUTHENTICATING', 'FRAUD_CHECK', 'TOKEN_GENERATION', 'COMPLETED'].includes(s)),
      ['INITIATED', 'AUTHENTICATING', 'FRAUD_CHECK', 'TOKEN_GENERATION', 'COMPLETED'],
      'started on b, finished on a, every transition audited',
    );
  },
);

test.serial("the surviving process's own logins are unaffected", async (t) => {
  pair.backends = [a.url];
  const rp = await oidc.discovery(
    new URL(deployment.gatewayUrl),
    deployment.client.client_id,
    deployment.client.client_secret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  for (const username of ['marie', 'jean']) {
    const { url } = await authorizationUrl(rp);
    const journey = await loginJourney(url, { username, redirectUri: RP });
    t.truthy(journey.url.searchParams.get('code'), username);
  }
  t.is((await fetch(`${a.opsUrl}/ready`)).status, 200);
});
