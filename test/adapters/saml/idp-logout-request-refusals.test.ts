/**
 * SAML Single Logout in the adapter, the IdP's own LogoutRequest refused: each hostile shape with its code and
 * nothing ended; a refusal answered to a verified IdP by its own binding, or the page when it lists no endpoint;
 * a replay; a request naming no session of ours; an expired request answered once, then the page.
 */
import test from 'ava';
import { AdapterError, AnsweredLogoutRefusal } from '../../../adapters/contract.ts';
import { logoutRequestFields, logoutRequestXml, redirectMessage } from '../../helpers/saml/logout-messages.ts';
import { createTestIdp } from '../../helpers/saml/test-idp.ts';
import { adapterFor, IDP_SLO, logoutOf, SLO } from './single-logout-bed.ts';
import { ANSWERED, assertAnswered, post, SHAPES } from './hostile-logout-requests.ts';

for (const [shape, code, build] of SHAPES) {
  test(`IdP-initiated ${shape} is refused with ${code} and nothing is ended`, async (t) => {
    const idp = await createTestIdp({ slo: { post: IDP_SLO, redirect: IDP_SLO } });
    const logout = logoutOf(await adapterFor(idp));
    let ended = 0;
    const fields = logoutRequestFields(idp, SLO, 'ada-4711', 'idx-1');
    const error = await t.throwsAsync(
      logout.answerLogout(await build(idp, fields), async () => {
        ended += 1;
        return 1;
      }),
      { instanceOf: AdapterError },
    );
    t.is(error?.code, code);
    t.is(ended, 0);
    const second = ANSWERED[code];
    if (second === undefined) t.false(error instanceof AnsweredLogoutRefusal, 'the page: no answer to this sender');
    else assertAnswered(t, error, fields.id, second);
  });
}

test('IdP-initiated over HTTP-Redirect, expired: the refusal goes back by Redirect, the query signed in the HSM', async (t) => {
  const idp = await createTestIdp({ slo: { redirect: IDP_SLO } });
  const logout = logoutOf(await adapterFor(idp));
  const fields = { ...logoutRequestFields(idp, SLO, 'ada-4711', 'idx-1'), notOnOrAfter: new Date(0).toISOString() };
  const error = await t.throwsAsync(
    logout.answerLogout(
      redirectMessage('SAMLRequest', logoutRequestXml(fields), { privateKey: idp.privateKey, relayState: 'rs' }),
      async () => 1,
    ),
    { instanceOf: AdapterError },
  );
  t.is(error?.code, 'SAML_LOGOUT_EXPIRED');
  assertAnswered(t, error, fields.id, 'RequestDenied', 'redirect');
});

test('IdP-initiated, an expired request sent again gets the page: one HSM signature per request, not per copy', async (t) => {
  const idp = await createTestIdp({ slo: { redirect: IDP_SLO } });
  const logout = logoutOf(await adapterFor(idp));
  const fields = { ...logoutRequestFields(idp, SLO, 'ada-4711', 'idx-1'), notOnOrAfter: new Date(0).toISOString() };
  const message = redirectMessage('SAMLRequest', logoutRequestXml(fields), {
    privateKey: idp.privateKey,
    relayState: 'rs',
  });
  const first = await t.throwsAsync(
    logout.answerLogout(message, async () => 1),
    { instanceOf: AdapterError },
  );
  assertAnswered(t, first, fields.id, 'RequestDenied', 'redirect');
  for (let i = 0; i < 3; i++) {
    const again = await t.throwsAsync(
      logout.answerLogout(message, async () => 1),
      { instanceOf: AdapterError },
    );
    t.is(again?.code, 'SAML_LOGOUT_EXPIRED');
    t.false(again instanceof AnsweredLogoutRefusal, 'the page: no signed answer again');
  }
});

test('IdP-initiated, a refusal of an IdP that lists no SingleLogoutService: no answer can go anywhere, the page', async (t) => {
  const idp = await createTestIdp();
  const logout = logoutOf(await adapterFor(idp));
  const fields = logoutRequestFields(idp, SLO, 'nobody', 'idx-unknown');
  const error = await t.throwsAsync(
    logout.answerLogout(post(idp, fields), async () => 0),
    { instanceOf: AdapterError },
  );
  t.is(error?.code, 'SAML_LOGOUT_UNKNOWN_SESSION');
  t.false(error instanceof AnsweredLogoutRefusal);
});

test('IdP-initiated: the same LogoutRequest twice is refused the second time (SAML_LOGOUT_REPLAYED)', async (t) => {
  const idp = await createTestIdp({ slo: { post: IDP_SLO } });
  const logout = logoutOf(await adapterFor(idp));
  const fields = logoutRequestFields(idp, SLO, 'ada-4711', 'idx-1');
  const message = post(idp, fields);
  let ended = 0;
  const end = async () => ((ended += 1), 1);
  await logout.answerLogout(message, end);
  const error = await t.throwsAsync(logout.answerLogout(message, end), { instanceOf: AdapterError });
  t.is(error?.code, 'SAML_LOGOUT_REPLAYED');
  t.is(ended, 1);
  t.false(error instanceof AnsweredLogoutRefusal, 'answered once already: no second, contradicting answer');
});

test('IdP-initiated: a LogoutRequest naming no session of ours is refused (SAML_LOGOUT_UNKNOWN_SESSION)', async (t) => {
  const idp = await createTestIdp({ slo: { post: IDP_SLO } });
  const logout = logoutOf(await adapterFor(idp));
  const fields = logoutRequestFields(idp, SLO, 'nobody', 'idx-unknown');
  const error = await t.throwsAsync(
    logout.answerLogout(post(idp, fields), async () => 0),
    {
      instanceOf: AdapterError,
    },
  );
  t.is(error?.code, 'SAML_LOGOUT_UNKNOWN_SESSION');
  assertAnswered(t, error, fields.id, 'UnknownPrincipal');
});
