/**
 * A late fraud verdict revokes the session through the session revocation API (issue #12 item 4): a person
 * logs in; stage 4's asynchronous reprocessing (the real worker, `FraudService.startReprocessing`, with the
 * revoker boot.ts wires) reaches a suspicious verdict on that login; then
 *
 * - the session is revoked (version + 1, state `revoked`, audited `SESSION_REVOKED` with actor `fraud`),
 *   so its access token is refused at userinfo and introspection (`SESSION_REVOKED`) — not only the tokens
 *   of the one grant: the browser's session no longer answers (`prompt=none` → login_required);
 * - the verdict is audited (`LATE_VERDICT_REVOKED`, `RISK_LATE_VERDICT`);
 * - another person's session goes on;
 * - a WebAuthn key that login enrolled is removed (audited `WEBAUTHN_CREDENTIALS_REMOVED`), not another login's;
 * - a verdict that comes before the login has its grant (the browser has not followed its redirect to the resume
 *   yet; a login waiting in a review or a step-up) refuses the login: its resume tells the RP `access_denied`, no
 *   code, the login FAILED with `RISK_LATE_VERDICT`.
 *
 * The login's signals are queued as stage 4's degraded mode queues them (`ReprocessQueue.enqueue`), with
 * the login's real id and account, on a device that the correlation windows (seeded through the real
 * stage) have seen with seven other identities: the verdict is the stage's own, not a stand-in.
 */
import test from 'ava';
import { CredentialStore } from '../../../gateway/webauthn/credential-store.ts';
import { LATE_VERDICT_REVOKE_ABOVE } from '../../../gateway/translation/fraud-service.ts';
import { eventually, eventuallyOrThrow } from '../../helpers/eventually.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { queueOnAFarmedDevice } from './farmed-device.ts';
import { introspect, logIn, redeem, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';

let bed: SessionBed;
test.before(async () => {
  // no boot-time worker: the test starts the real one once the windows are seeded
  bed = await startSessionBed({ bootOptions: { fraud: { reprocessMs: 0 } } });
});
test.after.always(async () => {
  await bed?.stop();
});

async function lastCompletedLogin(): Promise<string> {
  const { rows } = await bed.gateway.services.pool.query<{ session_id: string }>(
    "select session_id from audit_log where to_state = 'COMPLETED' order by id desc limit 1",
  );
  return rows[0]!.session_id;
}

test.serial(
  'a late suspicious verdict revokes the login’s session: tokens refused, the browser session ended',
  async (t) => {
    const person = await logIn(bed);
    const loginId = await lastCompletedLogin();
    const other = await (async () => {
      const request = await authorizationRequest(bed.rp);
      const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
      return (await redeem(bed, journey.url.searchParams.get('code')!, request.verifier)).access_token;
    })();
    const { services } = bed.gateway;
    const session = await services.sessions.store.findSession<{ accountId: string }>('sid', person.sid);
    const accountId = session!.payload.accountId;
    t.is((await userinfo(bed.url, person.accessToken)).status, 200);

    // the login enrolled a WebAuthn key right after it completed (as an attacker would), another login one too
    const keys = new CredentialStore(services.pool);
    const key = (id: string, login: string) => ({
      credentialId: id,
      accountId,
      publicKey: new Uint8Array([1, 2, 3]),
      counter: 0,
      attachment: 'platform' as const,
      transports: [],
      userVerified: true,
      aaguid: '00000000-0000-0000-0000-000000000000',
      level: 2 as const,
      attestationFormat: 'none',
      enrolledByLogin: login,
    });
    t.true(await keys.add(key('attackers-key', loginId)));
    t.true(await keys.add(key('persons-own-key', 'an-earlier-login')));
    await queueOnAFarmedDevice(services, loginId, accountId, 'late-verdict-farm');
    const stop = services.fraud.startReprocessing(50, LATE_VERDICT_REVOKE_ABOVE);
    t.teardown(stop);

    t.true(
      await eventually(async () => (await userinfo(bed.url, person.accessToken)).status === 401),
      'the token is refused once the verdict is in',
    );
    t.false(await introspect(bed.url, bed.deployment, person.accessToken));
    // the token is refused from the revocation's announcement on, before PostgreSQL has the revocation and its
    // audit record (revocation-is-announced-before-it-is-durable.test.ts); the worker audits the verdict last
    await eventuallyOrThrow(
      async () =>
        (await services.pool.query("select 1 from audit_log where to_state = 'LATE_VERDICT_REVOKED'")).rows.length > 0,
      'the worker to finish the revocation and audit the late verdict',
    );
    const { rows: revoked } = await services.pool.query<{ actor: string; sessions: string }>(
      "select details->>'actor' as actor, details->>'sessions' as sessions from audit_log where to_state = 'SESSION_REVOKED' and details->>'actor' = 'fraud'",
    );
    t.deepEqual(revoked, [{ actor: 'fraud', sessions: '1' }], 'revoked through the revocation API');
    const { rows: refused } = await services.pool.query(
      "select 1 from audit_log where to_state = 'TOKEN_REFUSED' and error_code = 'SESSION_REVOKED'",
    );
    t.true(refused.length >= 1, 'the refusal names the revoked session');
    const { rows: verdict } = await services.pool.query(
      "select error_code from audit_log where to_state = 'LATE_VERDICT_REVOKED' and session_id = $1",
      [loginId],
    );
    t.deepEqual(verdict, [{ error_code: 'RISK_LATE_VERDICT' }]);
    t.deepEqual(
      (await keys.ofAccount(accountId)).map((k) => k.credentialId),
      ['persons-own-key'],
      'the key the stopped login enrolled is removed; a key of another login stays',
    );
    const { rows: removed } = await services.pool.query(
      "select 1 from audit_log where to_state = 'WEBAUTHN_CREDENTIALS_REMOVED' and session_id = $1",
      [loginId],
    );
    t.is(removed.length, 1, 'audited');
    const stored = await services.sessions.store.findSession('sid', person.sid);
    t.is(stored?.record.state, 'revoked', 'the session itself is revoked, not only one grant');

    const request = await authorizationRequest(bed.rp, { prompt: 'none' });
    const hop = await person.browser.follow(request.url, {}, (u) => u.toString().startsWith(RP_REDIRECT));
    await hop.response.body?.cancel();
    t.is(hop.url.searchParams.get('error'), 'login_required', 'the browser session no longer answers');
    t.is((await userinfo(bed.url, other)).status, 200, 'another person’s session goes on');
  },
);

test.serial('a late suspicious verdict that comes before the login has its grant refuses the login', async (t) => {
  const { services } = bed.gateway;
  // the person's browser has the IdP's answer but has not followed its redirect to the resume yet
  const request = await authorizationRequest(bed.rp);
  const stopped = await loginJourney(request.url, {
    username: 'jean',
    redirectUri: new URL('/auth/', bed.url).href,
  });
  t.true(stopped.url.pathname.startsWith('/auth/'), `stopped at the resume: ${stopped.url.href}`);
  const loginId = stopped.url.pathname.split('/')[2]!;

  await queueOnAFarmedDevice(services, loginId, 'jean-account', 'late-verdict-farm-2');
  const stop = services.fraud.startReprocessing(50, LATE_VERDICT_REVOKE_ABOVE);
  t.teardown(stop);
  await eventuallyOrThrow(
    async () =>
      (
        await services.pool.query(
          "select 1 from audit_log where to_state = 'LATE_VERDICT_REVOKED' and session_id = $1 and details->>'outcome' = 'refused-before-its-grant'",
          [loginId],
        )
      ).rows.length > 0,
    'the worker to reach its verdict on the login',
  );

  const landing = await stopped.browser.follow(stopped.url, {}, (u) => u.toString().startsWith(RP_REDIRECT));
  await landing.response.body?.cancel();
  t.is(landing.url.searchParams.get('code'), null, 'no code');
  t.is(landing.url.searchParams.get('error'), 'access_denied');
  t.is(landing.url.searchParams.get('state'), request.state);
  const { rows } = await services.pool.query<{ to_state: string; error_code: string }>(
    "select to_state, error_code from audit_log where session_id = $1 and to_state in ('COMPLETED', 'FAILED', 'DENIED')",
    [loginId],
  );
  t.deepEqual(rows, [{ to_state: 'FAILED', error_code: 'RISK_LATE_VERDICT' }]);
});
