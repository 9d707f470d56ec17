/**
 * An IdP may name the relying parties its assertion can reach (SAML Core §2.5.1.6, ProxyRestriction Audience). The
 * first login for another RP is refused at the IdP's answer (`UPSTREAM_AUDIENCE_EXCLUDES_RP`); an SSO login on the
 * session that assertion made must not reach that other RP either (reviewer finding, twenty-seventh round: it did,
 * the session's evidence kept no audience list). Here the samlify demo IdP restricts its assertions to the demo RP:
 * - the demo RP logs the person in, and again by SSO on that session (a code each time);
 * - another RP asking on the same session gets no code from the session: the person is sent upstream again.
 */
import test from 'ava';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { logIn, startSessionBed, type SessionBed } from '../session/session-bed.ts';

const OTHER_RP = 'other-rp';
let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed({ moreClients: [{ client_id: OTHER_RP }] });
  bed.deployment.idp.setResponseOverrides({
    extraConditions: `<saml:ProxyRestriction><saml:Audience>${bed.deployment.client.client_id}</saml:Audience></saml:ProxyRestriction>`,
  });
});
test.after.always(async () => {
  await bed?.stop();
});

test('an assertion restricted to one RP gives SSO to that RP only; another is sent upstream', async (t) => {
  const { browser } = await logIn(bed);
  const again = await browser.follow(
    (await authorizationRequest(bed.rp)).url,
    {},
    (u) => u.href.startsWith(RP_REDIRECT) || u.href.startsWith(bed.deployment.idp.url),
  );
  await again.response.body?.cancel();
  t.truthy(again.url.searchParams.get('code'), 'the RP the IdP named: SSO on the session');

  const other = await browser.follow(
    (await authorizationRequest(bed.rp, { client_id: OTHER_RP })).url,
    {},
    (u) => u.href.startsWith(RP_REDIRECT) || u.href.startsWith(bed.deployment.idp.url),
  );
  await other.response.body?.cancel();
  t.is(other.url.searchParams.get('code'), null, 'no code for an RP the assertion was not for');
  t.false(other.url.href.startsWith(RP_REDIRECT), `sent upstream, not back to the RP: ${other.url.href}`);
});
