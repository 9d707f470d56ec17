/**
 * IdP metadata ingestion: entityID, SSO endpoints and signing certificates are read; anything malformed
 * or hostile is `SAML_METADATA_INVALID`, at boot.
 */
import test from 'ava';
import { AdapterError } from '../../../adapters/contract.ts';
import { parseIdpMetadata } from '../../../adapters/saml/idp-metadata.ts';
import { createTestIdp, idpMetadataXml, type TestIdp } from '../../helpers/saml/test-idp.ts';

let idp: TestIdp;
test.before(async () => {
  idp = await createTestIdp();
});

test('a well-formed IdP metadata file is read', (t) => {
  const md = parseIdpMetadata(idp.metadataXml);
  t.is(md.entityId, idp.entityId);
  t.deepEqual(md.sso, { post: idp.ssoUrl, redirect: idp.ssoUrl });
  t.is(md.signingCertificates.length, 1);
  t.is(md.signingCertificates[0]!.replace(/\s+/g, ''), idp.certificatePem.replace(/\s+/g, ''));
});

test('a KeyDescriptor without use counts as signing; use="encryption" does not', (t) => {
  const noUse = parseIdpMetadata(
    idpMetadataXml({ entityId: idp.entityId, ssoUrl: idp.ssoUrl, certificatePem: idp.certificatePem, use: '' }),
  );
  t.is(noUse.signingCertificates.length, 1);
  const error = t.throws(
    () =>
      parseIdpMetadata(
        idpMetadataXml({
          entityId: idp.entityId,
          ssoUrl: idp.ssoUrl,
          certificatePem: idp.certificatePem,
          use: 'encryption',
        }),
      ),
    { instanceOf: AdapterError },
  );
  t.is(error?.code, 'SAML_METADATA_INVALID');
});

const invalid: [string, (xml: string) => string][] = [
  [
    'a DOCTYPE',
    (xml) =>
      xml.replace('<md:EntityDescriptor', '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><md:EntityDescriptor'),
  ],
  ['no entityID', (xml) => xml.replace(/ entityID="[^"]+"/, '')],
  ['a certificate that is not X.509', (xml) => xml.replace(/<ds:X509Certificate>[^<]+/, '<ds:X509Certificate>AAAA')],
  ['no SingleSignOnService', (xml) => xml.replace(/<md:SingleSignOnService[^>]+\/>/g, '')],
  ['the wrong root', (xml) => xml.replaceAll('md:EntityDescriptor', 'md:EntitiesDescriptor')],
  ['not XML', () => 'not xml at all'],
  // the gateway sends browsers to these endpoints: one that is not http(s) would run in the gateway's origin
  [
    'a javascript: SingleSignOnService',
    (xml) => xml.replace(/(SingleSignOnService[^>]+Location=")[^"]+/, '$1javascript:alert(document.domain)'),
  ],
  [
    'a data: SingleSignOnService',
    (xml) => xml.replace(/(SingleSignOnService[^>]+Location=")[^"]+/, '$1data:text/html,x'),
  ],
  [
    'a javascript: SingleLogoutService',
    (xml) =>
      xml.replace(
        '<md:SingleSignOnService',
        '<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="javascript:alert(1)"/><md:SingleSignOnService',
      ),
  ],
  [
    'a javascript: SingleLogoutService ResponseLocation',
    (xml) =>
      xml.replace(
        '<md:SingleSignOnService',
        '<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/slo" ResponseLocation="JavaScript:alert(1)"/><md:SingleSignOnService',
      ),
  ],
];
for (const [what, mutate] of invalid) {
  test(`metadata with ${what} is refused`, (t) => {
    const error = t.throws(() => parseIdpMetadata(mutate(idp.metadataXml)), { instanceOf: AdapterError });
    t.is(error?.code, 'SAML_METADATA_INVALID');
  });
}
