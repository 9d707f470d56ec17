/** The demo IdP shows its login form only for an AuthnRequest correctly signed by the SP of its metadata. */
import test from 'ava';
import { authnRequestXml, hiddenValue, redirectQuery, signAuthnRequest } from './fake-sp.ts';
import { postForm, startIdpWithFakeSp } from './idp-fixture.ts';

test('HTTP-POST: a signed AuthnRequest gets the login form carrying its ID and RelayState', async (t) => {
  const { idp, sp } = await startIdpWithFakeSp();
  t.teardown(() => idp.stop());
  const xml = signAuthnRequest(
    authnRequestXml(sp, { id: '_req-post-1', destination: `${idp.url}/sso` }),
    sp.privateKeyPem,
  );
  const page = await postForm(`${idp.url}/sso`, {
    SAMLRequest: Buffer.from(xml).toString('base64'),
    RelayState: 'rs-1',
  });
  t.is(page.status, 200);
  t.is(hiddenValue(page.body, 'request_id'), '_req-post-1');
  t.is(hiddenValue(page.body, 'RelayState'), 'rs-1');
  for (const user of ['marie', 'jean', 'alex']) t.true(page.body.includes(`<code>${user}</code>`));
  t.regex(page.body, /<label for="username">/);
  t.regex(page.body, /<label for="password">/);
});

test('HTTP-Redirect: a signed AuthnRequest gets the login form', async (t) => {
  const { idp, sp } = await startIdpWithFakeSp();
  t.teardown(() => idp.stop());
  const query = redirectQuery(
    authnRequestXml(sp, { id: '_req-redirect-1', destination: `${idp.url}/sso` }),
    'rs/2+=',
    sp.privateKeyPem,
  );
  const response = await fetch(`${idp.url}/sso?${query}`);
  const body = await response.text();
  t.is(response.status, 200, body);
  t.is(hiddenValue(body, 'request_id'), '_req-redirect-1');
  t.is(hiddenValue(body, 'RelayState'), 'rs/2+=');
});
