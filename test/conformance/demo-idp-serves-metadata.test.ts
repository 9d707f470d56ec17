/** The demo IdP publishes metadata that parses: entityID, SSO over POST and Redirect, its signing certificate. */
import test from 'ava';
import { DOMParser, type Element } from '@xmldom/xmldom';
import * as samlify from 'samlify';
import { startIdpWithFakeSp } from './idp-fixture.ts';

const md = 'urn:oasis:names:tc:SAML:2.0:metadata';

test('GET /metadata is IdP metadata for <baseUrl>/metadata with POST + Redirect SSO and the dev-PKI certificate', async (t) => {
  const { idp, pki } = await startIdpWithFakeSp();
  t.teardown(() => idp.stop());
  const response = await fetch(idp.metadataUrl);
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /^application\/samlmetadata\+xml/);
  const xml = await response.text();

  const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement as Element;
  t.is(root.localName, 'EntityDescriptor');
  t.is(root.getAttribute('entityID'), `${idp.url}/metadata`);
  const descriptor = root.getElementsByTagNameNS(md, 'IDPSSODescriptor')[0] as Element;
  t.is(descriptor.getAttribute('WantAuthnRequestsSigned'), 'true');
  const sso = Array.from(descriptor.getElementsByTagNameNS(md, 'SingleSignOnService')).map((el: Element) => [
    el.getAttribute('Binding'),
    el.getAttribute('Location'),
  ]);
  t.deepEqual(sso, [
    ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', `${idp.url}/sso`],
    ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', `${idp.url}/sso`],
  ]);

  const parsed = samlify.IdPMetadata(xml);
  t.is(parsed.getEntityID(), idp.entityId);
  const certBody = pki.idpCertPem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
  t.is(String(parsed.getX509Certificate('signing')).replace(/\s+/g, ''), certBody);
});

test('GET / describes the IdP; unknown paths are NOT_FOUND', async (t) => {
  const { idp } = await startIdpWithFakeSp();
  t.teardown(() => idp.stop());
  const index = await fetch(`${idp.url}/`);
  t.is(index.status, 200);
  t.regex(await index.text(), /<html lang="en">/);
  const missing = await fetch(`${idp.url}/nope`);
  t.is(missing.status, 404);
  t.is(missing.headers.get('x-error-code'), 'NOT_FOUND');
});
