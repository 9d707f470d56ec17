/**
 * An IdP registered for some relying parties only (`onlyClients`: the conformance suite's IdP, whose key sits on an
 * officer's machine and which asserts whoever the suite says, at LoA high) serves no other RP (conformance review,
 * thirty-seventh round: the suite's enrolment made it every RP's IdP). Another RP:
 * - is not offered it: the chooser does not show it (nor would the one-IdP skip count it);
 * - cannot name it: `idp_hint` naming it is `IDP_UNKNOWN`, as an IdP it does not know;
 * - gets no login through a session that stands on it: the person is sent upstream again.
 * The RP it serves is offered both, and logs in at it.
 */
import test from 'ava';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { Browser, formsIn } from '../../helpers/browser.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { checkOnlyClients } from '../../../gateway/idps/idp-clients.ts';
import { ConfigError } from '../../../gateway/errors.ts';
import { startIdpsBed, type IdpsBed } from '../session/idps-bed.ts';

const SUITE_RP = 'conformance-rp';
let idpsBed: IdpsBed;
test.before(async () => {
  idpsBed = await startIdpsBed(1, { onlyClients: [SUITE_RP], moreClients: [{ client_id: SUITE_RP }] });
});
test.after.always(async () => {
  await idpsBed?.stop();
});

/** Where a browser following `url` stops: at the RP, at the demo IdP, at the extra IdP, or on a gateway page. */
function stopsAtAParty(url: URL): boolean {
  return (
    url.href.startsWith(RP_REDIRECT) ||
    url.href.startsWith(idpsBed.bed.deployment.idp.url) ||
    url.href.startsWith(idpsBed.idps[0]!.url)
  );
}

test('the RP it serves is offered it beside the demo IdP, and logs in at it', async (t) => {
  const { bed } = idpsBed;
  const shown = await loginJourney((await authorizationRequest(bed.rp, { client_id: SUITE_RP })).url, {
    username: 'jean',
    redirectUri: RP_REDIRECT,
    idp: 'second-idp',
  });
  t.truthy(shown.url.searchParams.get('code'), `a code for the RP it serves: ${shown.url}`);
});

test('another RP is not offered it on the chooser; the RP it serves is', async (t) => {
  const { bed } = idpsBed;
  const chooser = async (extra: Record<string, string>) => {
    const shown = await new Browser().follow((await authorizationRequest(bed.rp, extra)).url, {}, stopsAtAParty);
    const html = await shown.response.text();
    t.true(
      formsIn(html).some((f) => f.action.endsWith('/idp')),
      `the chooser (the harness shows it even for one IdP): ${shown.url.href}`,
    );
    return html;
  };
  const other = await chooser({});
  t.regex(other, /name="idp" value="demo-idp"/);
  t.notRegex(other, /second-idp/, 'not even its name');
  t.regex(await chooser({ client_id: SUITE_RP }), /name="idp" value="second-idp"/);
});

test('another RP naming it (idp_hint) is refused with IDP_UNKNOWN', async (t) => {
  const { bed } = idpsBed;
  const browser = new Browser();
  const hinted = await browser.follow(
    (await authorizationRequest(bed.rp, { idp_hint: 'second-idp' })).url,
    {},
    stopsAtAParty,
  );
  t.is(hinted.response.status, 400);
  t.regex(await hinted.response.text(), /IDP_UNKNOWN/);
});

test('a session standing on it gives another RP no login: the person is sent upstream', async (t) => {
  const { bed } = idpsBed;
  const suite = await loginJourney((await authorizationRequest(bed.rp, { client_id: SUITE_RP })).url, {
    username: 'jean',
    redirectUri: RP_REDIRECT,
    idp: 'second-idp',
  });
  t.truthy(suite.url.searchParams.get('code'));
  // the same browser, the same session: the RP it serves again has SSO…
  const again = await suite.browser.follow(
    (await authorizationRequest(bed.rp, { client_id: SUITE_RP })).url,
    {},
    stopsAtAParty,
  );
  await again.response.body?.cancel();
  t.truthy(again.url.searchParams.get('code'), `SSO for the RP it serves: ${again.url.href}`);
  // …another RP gets nothing from that session
  const other = await suite.browser.follow((await authorizationRequest(bed.rp)).url, {}, stopsAtAParty);
  await other.response.body?.cancel();
  t.is(other.url.searchParams.get('code'), null, `no code from a session on an IdP this RP may not use: ${other.url}`);
  const silent = await suite.browser.follow(
    (await authorizationRequest(bed.rp, { prompt: 'none' })).url,
    {},
    stopsAtAParty,
  );
  await silent.response.body?.cancel();
  t.is(silent.url.searchParams.get('error'), 'login_required', `prompt=none: ${silent.url.href}`);
});

test('an onlyClients entry naming no configured client stops the boot', (t) => {
  const adapters = [{ id: 'suite-idp', onlyClients: ['conformance-rp', 'typo-rp'] }] as never;
  const error = t.throws(() => checkOnlyClients(adapters, ['demo-rp', 'conformance-rp']), { instanceOf: ConfigError });
  t.is(error?.path, 'suite-idp.onlyClients');
  t.regex(error!.message, /typo-rp/);
  t.notThrows(() => checkOnlyClients(adapters, ['conformance-rp', 'typo-rp']));
});
