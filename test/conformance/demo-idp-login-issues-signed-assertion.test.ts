/**
 * After a correct demo password the IdP POSTs a Response to the SP's ACS whose Assertion is signed by the
 * IdP certificate (verified here with xml-crypto) and carries the right audience, LoA, InResponseTo and attributes.
 */
import test, { type ExecutionContext } from 'ava';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import type { ResponseOverrides } from '../../conformance/saml-idp/index.ts';
import { authnRequestXml, hiddenValue, signAuthnRequest } from './fake-sp.ts';
import { postForm, startIdpWithFakeSp } from './idp-fixture.ts';

const saml = 'urn:oasis:names:tc:SAML:2.0:assertion';
const dsig = 'http://www.w3.org/2000/09/xmldsig#';

async function signIn(t: ExecutionContext, username: string, password: string, overrides?: ResponseOverrides) {
  const { idp, sp, pki } = await startIdpWithFakeSp(overrides);
  t.teardown(() => idp.stop());
  const id = `_req-${username}-1`;
  const xml = signAuthnRequest(authnRequestXml(sp, { id, destination: `${idp.url}/sso` }), sp.privateKeyPem);
  const form = await postForm(`${idp.url}/sso`, {
    SAMLRequest: Buffer.from(xml).toString('base64'),
    RelayState: 'rs-42',
  });
  t.is(form.status, 200);
  const login = await postForm(`${idp.url}/login`, { request_id: id, RelayState: 'rs-42', username, password });
  return { idp, sp, pki, id, login };
}

/** Attribute name → first value; every attribute must use NameFormat basic. */
function attributes(assertion: Element): Record<string, string> {
  const out: Record<string, string> = {};
  for (const attribute of Array.from(assertion.getElementsByTagNameNS(saml, 'Attribute'))) {
    if (attribute.getAttribute('NameFormat') !== 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic') return {};
    out[attribute.getAttribute('Name') as string] =
      attribute.getElementsByTagNameNS(saml, 'AttributeValue')[0]?.textContent ?? '';
  }
  return out;
}

test('marie: signed assertion, LoA substantial, audience, InResponseTo, destination, attributes', async (t) => {
  const { idp, sp, pki, id, login } = await signIn(t, 'marie', 'marie-demo');
  t.is(login.status, 200);
  t.regex(login.body, new RegExp(`<form method="post" action="${sp.acsUrl}"`));
  t.regex(login.body, /<button type="submit">Continue<\/button>/);
  t.is(hiddenValue(login.body, 'RelayState'), 'rs-42');
  const xml = Buffer.from(hiddenValue(login.body, 'SAMLResponse') as string, 'base64').toString('utf8');
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const response = doc.documentElement as Element;
  const assertion = response.getElementsByTagNameNS(saml, 'Assertion')[0] as Element;

  // Exactly one signature, inside the Assertion, verified against the IdP certificate, covering the Assertion.
  const signatures = doc.getElementsByTagNameNS(dsig, 'Signature');
  t.is(signatures.length, 1);
  t.is(signatures[0]!.parentNode, assertion);
  const verifier = new SignedXml({ publicCert: pki.idpCertPem, getCertFromKeyInfo: () => null });
  verifier.loadSignature(signatures[0]!.toString());
  t.true(verifier.checkSignature(xml));
  const signed = verifier.getSignedReferences();
  t.is(signed.length, 1);
  t.true(signed[0]!.includes(`ID="${assertion.getAttribute('ID')}"`));
  t.regex(xml, /SignatureMethod Algorithm="http:\/\/www\.w3\.org\/2001\/04\/xmldsig-more#rsa-sha256"/);
  t.regex(xml, /CanonicalizationMethod Algorithm="http:\/\/www\.w3\.org\/2001\/10\/xml-exc-c14n#"/);

  t.is(response.getAttribute('Destination'), sp.acsUrl);
  t.is(response.getAttribute('InResponseTo'), id);
  const text = (name: string): string | undefined =>
    assertion.getElementsByTagNameNS(saml, name)[0]?.textContent ?? undefined;
  t.is(text('Issuer'), idp.entityId);
  t.is(idp.entityId, `${idp.url}/metadata`);
  t.is(text('Audience'), sp.entityId);
  t.is(text('AuthnContextClassRef'), 'http://eidas.europa.eu/LoA/substantial');
  const nameId = assertion.getElementsByTagNameNS(saml, 'NameID')[0] as Element;
  t.is(nameId.getAttribute('Format'), 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent');
  const confirmation = assertion.getElementsByTagNameNS(saml, 'SubjectConfirmationData')[0] as Element;
  t.is(confirmation.getAttribute('Recipient'), sp.acsUrl);
  t.is(confirmation.getAttribute('InResponseTo'), id);
  const conditions = assertion.getElementsByTagNameNS(saml, 'Conditions')[0] as Element;
  const lifetime =
    Date.parse(conditions.getAttribute('NotOnOrAfter') as string) -
    Date.parse(conditions.getAttribute('NotBefore') as string);
  t.is(lifetime, 5 * 60 * 1000);
  t.deepEqual(attributes(assertion), {
    given_name: 'Marie',
    family_name: 'Dupont',
    birthdate: '1985-04-12',
    gender: 'female',
    birthplace: '75056',
    birthcountry: '99100',
    email: 'marie.dupont@example.org',
    preferred_username: 'Dupont',
  });
});

test('jean gets LoA high, alex LoA low', async (t) => {
  for (const [user, loa] of [
    ['jean', 'high'],
    ['alex', 'low'],
  ] as const) {
    const { login } = await signIn(t, user, `${user}-demo`);
    const xml = Buffer.from(hiddenValue(login.body, 'SAMLResponse') as string, 'base64').toString('utf8');
    t.true(xml.includes(`<saml:AuthnContextClassRef>http://eidas.europa.eu/LoA/${loa}</saml:AuthnContextClassRef>`));
  }
});

test('a wrong password re-shows the form: LOGIN_BAD_CREDENTIALS, and the request stays usable', async (t) => {
  const { idp, id, login } = await signIn(t, 'marie', 'wrong');
  t.is(login.status, 401);
  t.is(login.code, 'LOGIN_BAD_CREDENTIALS');
  t.is(hiddenValue(login.body, 'request_id'), id);
  const retry = await postForm(`${idp.url}/login`, {
    request_id: id,
    RelayState: 'rs-42',
    username: 'marie',
    password: 'marie-demo',
  });
  t.is(retry.status, 200);
  t.truthy(hiddenValue(retry.body, 'SAMLResponse'));
});

test('a request answered once cannot be answered again, nor an unknown one: AUTHN_REQUEST_UNKNOWN', async (t) => {
  const { idp, id, login } = await signIn(t, 'marie', 'marie-demo');
  t.is(login.status, 200);
  const again = await postForm(`${idp.url}/login`, {
    request_id: id,
    RelayState: 'rs-42',
    username: 'marie',
    password: 'marie-demo',
  });
  t.is(again.code, 'AUTHN_REQUEST_UNKNOWN');
  const forged = await postForm(`${idp.url}/login`, {
    request_id: '_never-sent',
    username: 'marie',
    password: 'marie-demo',
  });
  t.is(forged.code, 'AUTHN_REQUEST_UNKNOWN');
});

test('responseOverrides falsify the next Responses (programmable IdP)', async (t) => {
  const { idp, sp, login } = await signIn(t, 'marie', 'marie-demo', {
    audience: 'https://someone-else.test',
    signResponse: true,
  });
  const xml = Buffer.from(hiddenValue(login.body, 'SAMLResponse') as string, 'base64').toString('utf8');
  t.true(xml.includes('<saml:Audience>https://someone-else.test</saml:Audience>'));
  t.is(new DOMParser().parseFromString(xml, 'text/xml').getElementsByTagNameNS(dsig, 'Signature').length, 2);
  idp.setResponseOverrides(undefined);
  const id2 = '_req-second';
  const request = signAuthnRequest(authnRequestXml(sp, { id: id2, destination: `${idp.url}/sso` }), sp.privateKeyPem);
  await postForm(`${idp.url}/sso`, { SAMLRequest: Buffer.from(request).toString('base64') });
  const honest = await postForm(`${idp.url}/login`, { request_id: id2, username: 'marie', password: 'marie-demo' });
  const honestXml = Buffer.from(hiddenValue(honest.body, 'SAMLResponse') as string, 'base64').toString('utf8');
  t.true(honestXml.includes(`<saml:Audience>${sp.entityId}</saml:Audience>`));
});
