/** The demo IdP refuses AuthnRequests that are unsigned, tampered, wrapped, mis-addressed or not plain XML. */
import test from 'ava';
import { startDemoIdp } from '../../conformance/saml-idp/index.ts';
import { authnRequestXml, makeFakeSp, redirectQuery, signAuthnRequest } from './fake-sp.ts';
import { postForm, startIdpWithFakeSp, testPki } from './idp-fixture.ts';

const b64 = (xml: string): string => Buffer.from(xml, 'utf8').toString('base64');

test('an unsigned HTTP-POST AuthnRequest is refused: AUTHN_REQUEST_UNSIGNED', async (t) => {
  const { idp, sp } = await startIdpWithFakeSp();
  t.teardown(() => idp.stop());
  const page = await postForm(`${idp.url}/sso`, {
    SAMLRequest: b64(authnRequestXml(sp, { destination: `${idp.url}/sso` })),
  });
  t.is(page.status, 400);
  t.is(page.code, 'AUTHN_REQUEST_UNSIGNED');
  t.false(page.body.includes('name="password"'));
});

test('a tampered signed AuthnRequest is refused: AUTHN_REQUEST_SIGNATURE_INVALID', async (t) => {
  const { idp, sp } = await startIdpWithFakeSp();
  t.teardown(() => idp.stop());
  const signed = signAuthnRequest(authnRequestXml(sp, { destination: `${idp.url}/sso` }), sp.privateKeyPem);
  const tampered = signed.replace('LoA/substantial', 'LoA/low');
  t.not(tampered, signed);
  const page = await postForm(`${idp.url}/sso`, { SAMLRequest: b64(tampered) });
  t.is(page.code, 'AUTHN_REQUEST_SIGNATURE_INVALID');
});

test('an AuthnRequest signed by another key is refused: AUTHN_REQUEST_SIGNATURE_INVALID', async (t) => {
  const { idp, sp } = await startIdpWithFakeSp();
  t.teardown(() => idp.stop());
  const attacker = await makeFakeSp();
  const signed = signAuthnRequest(authnRequestXml(sp, { destination: `${idp.url}/sso` }), attacker.privateKeyPem);
  const page = await postForm(`${idp.url}/sso`, { SAMLRequest: b64(signed) });
  t.is(page.code, 'AUTHN_REQUEST_SIGNATURE_INVALID');
});

test('a signature over a child instead of the request is refused: AUTHN_REQUEST_WRAPPED', async (t) => {
  const { idp, sp } = await startIdpWithFakeSp();
  t.teardown(() => idp.stop());
  const xml = authnRequestXml(sp, { destination: `${idp.url}/sso` }).replace(
    '<samlp:NameIDPolicy ',
    '<samlp:NameIDPolicy ID="_child" ',
  );
  const signed = signAuthnRequest(xml, sp.privateKeyPem, "//*[local-name(.)='NameIDPolicy']");
  const page = await postForm(`${idp.url}/sso`, { SAMLRequest: b64(signed) });
  t.is(page.code, 'AUTHN_REQUEST_WRAPPED');
});

test('an HTTP-Redirect AuthnRequest without Signature is refused, a tampered one too', async (t) => {
  const { idp, sp } = await startIdpWithFakeSp();
  t.teardown(() => idp.stop());
  const xml = authnRequestXml(sp, { destination: `${idp.url}/sso` });
  const unsigned = await fetch(`${idp.url}/sso?${redirectQuery(xml, 'rs', null)}`);
  t.is(unsigned.headers.get('x-error-code'), 'AUTHN_REQUEST_UNSIGNED');
  const tampered = redirectQuery(xml, 'rs', sp.privateKeyPem).replace('RelayState=rs', 'RelayState=evil');
  const response = await fetch(`${idp.url}/sso?${tampered}`);
  t.is(response.headers.get('x-error-code'), 'AUTHN_REQUEST_SIGNATURE_INVALID');
});

test('a signed AuthnRequest asking for an ACS outside the SP metadata is refused: AUTHN_REQUEST_ACS_MISMATCH', async (t) => {
  const { idp, sp } = await startIdpWithFakeSp();
  t.teardown(() => idp.stop());
  const xml = authnRequestXml(sp, { destination: `${idp.url}/sso`, acsUrl: 'https://attacker.test/acs' });
  const page = await postForm(`${idp.url}/sso`, { SAMLRequest: b64(signAuthnRequest(xml, sp.privateKeyPem)) });
  t.is(page.code, 'AUTHN_REQUEST_ACS_MISMATCH');
});

test('a signed AuthnRequest from another Issuer is refused: AUTHN_REQUEST_WRONG_ISSUER', async (t) => {
  const { idp, sp } = await startIdpWithFakeSp();
  t.teardown(() => idp.stop());
  const xml = authnRequestXml(sp, { destination: `${idp.url}/sso`, issuer: 'https://other-sp.test' });
  const page = await postForm(`${idp.url}/sso`, { SAMLRequest: b64(signAuthnRequest(xml, sp.privateKeyPem)) });
  t.is(page.code, 'AUTHN_REQUEST_WRONG_ISSUER');
});

test('a DOCTYPE is refused before any parsing: XML_DOCTYPE_REFUSED', async (t) => {
  const { idp, sp } = await startIdpWithFakeSp();
  t.teardown(() => idp.stop());
  const xml = `<!DOCTYPE x [<!ENTITY e "e">]>${authnRequestXml(sp, { destination: `${idp.url}/sso` })}`;
  const page = await postForm(`${idp.url}/sso`, { SAMLRequest: b64(xml) });
  t.is(page.code, 'XML_DOCTYPE_REFUSED');
});

test('a request without SAMLRequest is refused: AUTHN_REQUEST_MISSING', async (t) => {
  const { idp } = await startIdpWithFakeSp();
  t.teardown(() => idp.stop());
  const page = await postForm(`${idp.url}/sso`, { RelayState: 'x' });
  t.is(page.code, 'AUTHN_REQUEST_MISSING');
});

test('unreachable SP metadata: SP_METADATA_UNAVAILABLE (502)', async (t) => {
  const idp = await startDemoIdp({ port: 0, spMetadataUrl: 'http://127.0.0.1:9/saml/metadata', keys: testPki() });
  t.teardown(() => idp.stop());
  const page = await postForm(`${idp.url}/sso`, { SAMLRequest: 'PHg+' });
  t.is(page.status, 502);
  t.is(page.code, 'SP_METADATA_UNAVAILABLE');
});
