/**
 * One IdP may have two registry entries (one entity: an eIDAS node's natural- and legal-person logins are two
 * entries of one node). A logout message from that IdP names its subject, not our entry (reviewer finding,
 * twenty-seventh round: it went to the first entry only):
 * - an IdP-initiated logout ends the subject's sessions that came through either entry, and samlify gets our answer;
 * - an RP-initiated logout of a session that came through the second entry finishes with that entry's request: the
 *   IdP's LogoutResponse is verified against the request that entry sent, and the logout completes.
 * A second samlify IdP (an independent implementation) registered as `second-idp` and again as `second-idp-again`.
 */
import test from 'ava';
import type { DemoIdp } from '../../../conformance/saml-idp/index.ts';
import { formsIn } from '../../helpers/browser.ts';
import { audited, logInAt, startIdpsBed, type IdpsBed } from './idps-bed.ts';
import { logOutAtTheRp, userinfo } from './session-bed.ts';

let beds: IdpsBed;
let idp: DemoIdp;
test.before(async () => {
  beds = await startIdpsBed(1, { alsoAs: 'second-idp-again' });
  idp = beds.idps[0]!;
});
test.after.always(async () => {
  await beds?.stop();
});

test.serial("an IdP's logout ends the session that came through its second entry", async (t) => {
  const session = await logInAt(beds.bed, 'second-idp-again');
  const upstream = idp.sessions().at(-1)!;
  t.is((await userinfo(beds.bed.url, session.accessToken)).status, 200);
  const message = await idp.logoutRequest(upstream.sessionIndex, 'relay-from-idp');
  const answer = await fetch(message.url, { method: 'POST', body: new URLSearchParams(message.fields) });
  t.is(answer.status, 200);
  const form = formsIn(await answer.text()).find((f) => f.method === 'POST')!;
  t.is(form.action, `${idp.url}/slo`, 'answered to the IdP');
  const delivered = await fetch(form.action, { method: 'POST', body: new URLSearchParams(form.fields) });
  t.is(delivered.status, 200, 'samlify accepted our signed LogoutResponse');
  t.is(idp.logoutResponses().at(-1)?.inResponseTo, message.id);
  t.is((await userinfo(beds.bed.url, session.accessToken)).status, 401, 'the session is ended');
  t.like((await audited(beds.bed, 'UPSTREAM_LOGOUT_ANSWERED')).at(-1), { sessions: 1 });
});

test.serial('an RP logout of a session of the second entry completes with that entry’s request', async (t) => {
  const session = await logInAt(beds.bed, 'second-idp-again');
  const { atPlru, visited } = await logOutAtTheRp(beds.bed, session);
  t.true(atPlru, 'the browser ends at the RP');
  t.true(visited.includes(`${idp.url}/slo`), 'our LogoutRequest went to the IdP');
  t.deepEqual(
    (await audited(beds.bed, 'UPSTREAM_LOGOUT_COMPLETED')).map((d) => d.idp),
    ['second-idp-again'],
    'its answer verified against the request the second entry sent',
  );
  t.deepEqual(await audited(beds.bed, 'UPSTREAM_LOGOUT_FAILED'), []);
});
