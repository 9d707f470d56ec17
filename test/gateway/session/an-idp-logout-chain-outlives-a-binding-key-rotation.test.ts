/**
 * Rotating `secrets.browserBindingKey` (a rolling restart, the old key under `secrets.previousBrowserBindingKeys`)
 * while a person's logout is on its way through the IdPs of the session: the chain was bound to the browser under the
 * old key; the restarted gateway compares the browser's binding cookie under every listed key
 * (`upstream-logout-chain.ts` `continueLogout`), so the logout goes on to the next IdP. Without the old key listed, the
 * same browser's answer is taken for another browser's (`UPSTREAM_LOGOUT_OTHER_BROWSER`) and the next IdP is not
 * asked, as before. Real samlify IdPs, PostgreSQL, Redis and HSM; the gateway restarts on its port mid-logout.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import type { DemoIdp } from '../../../conformance/saml-idp/index.ts';
import { audited, logInAt, startIdpsBed } from './idps-bed.ts';
import { logOutAtTheRp, type SessionBed } from './session-bed.ts';

const running: Array<() => Promise<void>> = [];

test.afterEach.always(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

/**
 * jean's session on the demo IdP and a second IdP; his RP logout, the gateway restarted with a new binding key (and
 * the old one listed, or not) while his browser is at the first IdP asked (the second: the latest login's).
 */
async function logoutAcrossARotation(listOldKey: boolean) {
  const started = await startIdpsBed(1);
  running.push(() => started.stop());
  const bed: SessionBed = started.bed;
  const second: DemoIdp = started.idps[0]!;
  const first = await logInAt(bed, 'demo-idp');
  const atFirst = bed.deployment.idp.sessions().at(-1)!;
  const stepped = await logInAt(bed, 'second-idp', first.browser);
  let restarted = false;
  const logout = await logOutAtTheRp(bed, stepped, async (action) => {
    // the browser brings the second IdP's LogoutResponse back: the gateway restarts with a new key first
    if (restarted || !action.startsWith(`${bed.url}/saml/slo`)) return;
    restarted = true;
    await bed.restartGateway((deployment) => {
      deployment.env.GW_NEW_BROWSER_BINDING_KEY = randomBytes(32).toString('base64url');
      const secrets = deployment.rawConfig.secrets as Record<string, unknown>;
      secrets.browserBindingKey = { env: 'GW_NEW_BROWSER_BINDING_KEY' };
      if (listOldKey) secrets.previousBrowserBindingKeys = [{ env: 'GW_BROWSER_BINDING_KEY' }];
    });
  });
  return { bed, second, atFirst, logout, restarted };
}

test.serial(
  'with the old key listed, a logout begun before the rotation goes on to the next IdP after it',
  async (t) => {
    const { bed, atFirst, logout, restarted } = await logoutAcrossARotation(true);
    t.true(restarted, 'the gateway restarted mid-logout');
    t.true(logout.atPlru, `the browser ends at the RP: ${logout.url}`);
    t.true(
      logout.visited.includes(`${bed.deployment.idp.url}/slo`),
      `the first IdP was asked: ${logout.visited.join(' ')}`,
    );
    t.false(
      bed.deployment.idp.sessions().some((s) => s.sessionIndex === atFirst.sessionIndex),
      'and ended its session',
    );
    t.deepEqual(await audited(bed, 'UPSTREAM_LOGOUT_SKIPPED'), []);
  },
);

test.serial('without it, the same browser is taken for another and the next IdP is not asked', async (t) => {
  const { bed, logout, restarted } = await logoutAcrossARotation(false);
  t.true(restarted);
  t.false(logout.visited.includes(`${bed.deployment.idp.url}/slo`), logout.visited.join(' '));
  const { rows } = await bed.gateway.services.pool.query<{ error_code: string; details: Record<string, unknown> }>(
    "select error_code, details from audit_log where to_state = 'UPSTREAM_LOGOUT_SKIPPED' order by id",
  );
  t.deepEqual(
    rows.map((r) => [r.error_code, r.details.notAsked]),
    [['UPSTREAM_LOGOUT_OTHER_BROWSER', 1]],
  );
});
