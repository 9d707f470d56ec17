/**
 * An IdP that declares ECDSA in its metadata (`alg:SigningMethod`) or is configured with
 * `requestSigningAlgorithm: ES256` gets AuthnRequests signed in the token with the ES256 `saml` key
 * (`ecdsa-sha256`); an IdP that declares nothing stays on RSA. Every XML-DSig row of the registry can be
 * chosen explicitly. The signatures verify with xmlsec1 (OpenSSL; an independent implementation: samlify
 * 2.13.1 verifies RSA and RSA-PSS only, its xml-crypto 6.1.2 has no ECDSA class). A configured algorithm
 * without an active key is `SAML_SIGNING_KEY_UNAVAILABLE`, never another key.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { AdapterError } from '../../../adapters/contract.ts';
import { signedAuthnRequest } from '../../../adapters/saml/authn-request.ts';
import { parseIdpMetadata } from '../../../adapters/saml/idp-metadata.ts';
import { legacyFallback, requestSigning, type RequestSigningSetting } from '../../../adapters/saml/request-signing.ts';
import { DEFAULT_SIGNATURE_METHODS, EIDAS_SIGNATURE_METHODS } from '../../../adapters/saml/xmldsig.ts';
import { XML_DSIG_ALGORITHMS } from '../../../hsm/algorithms.ts';
import type { Signer } from '../../../hsm/signer.ts';
import { selfSignedCertificate } from '../../../hsm/x509.ts';
import { freshToken } from '../../helpers/services.ts';
import { createSamlTestBed, openSpKeys, SP, type SpKeys } from '../../helpers/saml/test-bed.ts';

const ECDSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const token = freshToken();
const dir = mkdtempSync(join(tmpdir(), 'gw-ecdsa-requests-'));
let keys: SpKeys;

test.before(async () => {
  keys = await openSpKeys(token);
  for (const row of XML_DSIG_ALGORITHMS)
    if (!keys.store.activeSigners('saml').some((s) => s.alg === row.name)) await keys.store.generate('saml', row.name);
});
test.after.always(async () => {
  await keys?.store.close();
});

const certificateOf = (signer: Signer) => selfSignedCertificate(signer, { subject: `CN=sp ${signer.alg}`, days: 1 });

function signing(setting: RequestSigningSetting, allowed: readonly string[] = DEFAULT_SIGNATURE_METHODS) {
  return requestSigning({
    idp: 'test-idp',
    setting,
    allowed,
    keys: keys.store,
    fallback: (usable) => usable[0],
    certificateOf,
  });
}

/** xmlsec1 verifies the enveloped signature of an AuthnRequest against `certificatePem` alone. */
function verifiesWithXmlsec1(xml: string, certificatePem: string): boolean {
  const file = join(dir, `request-${Math.random().toString(36).slice(2)}.xml`);
  const cert = `${file}.crt`;
  writeFileSync(file, xml);
  writeFileSync(cert, certificatePem);
  try {
    execFileSync(
      'xmlsec1',
      [
        '--verify',
        '--pubkey-cert-pem',
        cert,
        '--id-attr:ID',
        'urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest',
        file,
      ],
      { stdio: 'pipe' },
    );
    return true;
  } catch {
    return false;
  }
}

async function request(signer: Signer, certificatePem: string) {
  return signedAuthnRequest(
    {
      spEntityId: SP.entityId,
      acsUrl: SP.acsUrl,
      destination: 'https://idp.test.example/sso',
      minimumLoa: 'http://eidas.europa.eu/LoA/substantial',
      forceAuthn: false,
      issueInstant: new Date(),
    },
    signer,
    certificatePem,
  );
}

test('an IdP whose metadata declares ecdsa-sha256 gets an ECDSA P-256 AuthnRequest that xmlsec1 verifies', async (t) => {
  const choice = await signing('metadata').forMessage({ signingMethods: [ECDSA_SHA256, RSA_SHA256] });
  t.is(choice.signer.alg, 'ES256');
  const { xml } = await request(choice.signer, choice.certificatePem);
  t.regex(xml, new RegExp(`SignatureMethod Algorithm="${ECDSA_SHA256}"`));
  t.true(verifiesWithXmlsec1(xml, choice.certificatePem));
  t.false(
    verifiesWithXmlsec1(
      xml.replace('ForceAuthn', 'ForceAuthm').replace('AllowCreate="true"', 'AllowCreate="false"'),
      choice.certificatePem,
    ),
  );
});

test('an IdP that declares nothing, or only methods we hold no key for, gets the RSA default', async (t) => {
  t.is((await signing('metadata').forMessage({})).signer.alg, 'RS256');
  t.is(
    (await signing('metadata').forMessage({ signingMethods: ['http://www.w3.org/2000/09/xmldsig#rsa-sha1'] })).signer
      .alg,
    'RS256',
  );
});

test('an eIDAS node never gets a method outside PSS and ECDSA, whatever its metadata declares', async (t) => {
  const choice = await signing('metadata', EIDAS_SIGNATURE_METHODS).forMessage({
    signingMethods: [RSA_SHA256, ECDSA_SHA256],
  });
  t.is(choice.signer.alg, 'ES256');
});

for (const row of XML_DSIG_ALGORITHMS) {
  test(`requestSigningAlgorithm ${row.name} signs with the ${row.name} saml key, and xmlsec1 verifies RSA and ECDSA ones`, async (t) => {
    const choice = await signing(row.name).forMessage({ signingMethods: [ECDSA_SHA256] });
    t.is(choice.signer.alg, row.name);
    const { xml } = await request(choice.signer, choice.certificatePem);
    t.regex(xml, new RegExp(`SignatureMethod Algorithm="${row.xmlDsig.signatureMethod}"`));
    // xmlsec1 1.2.x (Debian) has no RSA-PSS nor Ed25519 XML-DSig URI: those rows are verified with xml-crypto
    // in signs-requests-and-metadata-in-the-hsm.test.ts
    if (/#(rsa-sha256|ecdsa-sha\d+)$/.test(row.xmlDsig.signatureMethod))
      t.true(verifiesWithXmlsec1(xml, choice.certificatePem));
  });
}

test('a configured algorithm without an active saml key is SAML_SIGNING_KEY_UNAVAILABLE, never another key', async (t) => {
  const noEcdsa = { activeSigners: () => keys.store.activeSigners('saml').filter((s) => s.alg === 'RS256') };
  const chooser = requestSigning({
    idp: 'test-idp',
    setting: 'ES256',
    allowed: DEFAULT_SIGNATURE_METHODS,
    keys: noEcdsa,
    fallback: (usable) => usable[0],
    certificateOf,
  });
  const error = await t.throwsAsync(chooser.forMessage({ signingMethods: [ECDSA_SHA256] }));
  t.true(error instanceof AdapterError);
  t.is((error as AdapterError).code, 'SAML_SIGNING_KEY_UNAVAILABLE');
});

test('startLogin signs with the key the IdP setting chooses (the adapter asks per request)', async (t) => {
  const bed = await createSamlTestBed(keys, {}, undefined, { signing: signing('ES256') });
  try {
    const started = await bed.adapter.startLogin({
      loginId: 'L1',
      browserBinding: 'B1',
      minimumLoa: 'http://eidas.europa.eu/LoA/low',
      forceAuthn: false,
    });
    if (started.binding !== 'post') return t.fail('expected POST');
    const xml = Buffer.from(started.fields['SAMLRequest']!, 'base64').toString('utf8');
    t.regex(xml, new RegExp(`SignatureMethod Algorithm="${ECDSA_SHA256}"`));
    const es256 = keys.store.activeSigners('saml').find((s) => s.alg === 'ES256')!;
    t.true(verifiesWithXmlsec1(xml, await certificateOf(es256)));
  } finally {
    await bed.close();
  }
});

test('IdP metadata: alg:SigningMethod is read from the IDPSSODescriptor, else the EntityDescriptor', (t) => {
  const cert = keys.certificatePem.replace(/-----[A-Z ]+-----|\s/g, '');
  const md = (entityExt: string, roleExt: string) =>
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:alg="urn:oasis:names:tc:SAML:metadata:algsupport" entityID="https://idp.example">${entityExt}` +
    `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${roleExt}` +
    `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>`;
  const ext = (...uris: string[]) =>
    `<md:Extensions>${uris.map((u) => `<alg:SigningMethod Algorithm="${u}"/>`).join('')}</md:Extensions>`;
  t.deepEqual(parseIdpMetadata(md('', ext(ECDSA_SHA256, RSA_SHA256))).signingMethods, [ECDSA_SHA256, RSA_SHA256]);
  t.deepEqual(parseIdpMetadata(md(ext(ECDSA_SHA256), '')).signingMethods, [ECDSA_SHA256]);
  t.deepEqual(parseIdpMetadata(md(ext(RSA_SHA256), ext(ECDSA_SHA256))).signingMethods, [ECDSA_SHA256]);
  t.is(parseIdpMetadata(md('', '')).signingMethods, undefined);
});

test('a legacy IdP that declares nothing gets the RSA key, whatever order the store lists its keys in', async (t) => {
  const saml = keys.store.activeSigners('saml');
  const rs256 = saml.find((s) => s.alg === 'RS256')!;
  const ecdsaFirst = [...saml.filter((s) => s.alg !== 'RS256'), rs256];
  t.not(ecdsaFirst[0]!.alg, 'RS256');
  t.is(legacyFallback(ecdsaFirst), rs256);
  const chooser = requestSigning({
    idp: 'legacy-idp',
    setting: 'metadata',
    allowed: DEFAULT_SIGNATURE_METHODS,
    keys: { activeSigners: () => ecdsaFirst },
    fallback: legacyFallback,
    certificateOf,
  });
  t.is((await chooser.forMessage({})).signer, rs256);
  t.is(
    legacyFallback(saml.filter((s) => s.alg === 'ES256')),
    saml.find((s) => s.alg === 'ES256'),
  );
});
