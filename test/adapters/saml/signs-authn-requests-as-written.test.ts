/**
 * The AuthnRequest is written in its exclusive-c14n form and signed as written (`authn-request.ts`,
 * `sign-canonical.ts`; issue #14): no XML parse, clone or canonicalisation per login.
 *
 * - The written document is its own exclusive canonical form (xml-crypto's canonicalisation of its parse),
 *   for legacy and eIDAS requests and values carrying every character canonical escaping touches.
 * - For every XML-DSig row of the `hsm/` registry, the request signed in the token verifies with xml-crypto
 *   (its canonicalisation of SignedInfo and of the referenced element, our verify classes) and, for RSA
 *   PKCS#1 v1.5 and ECDSA, with xmlsec1 (OpenSSL, an independent implementation; xmlsec1 1.2.x of Debian
 *   knows no RSA-PSS nor Ed25519 XML-DSig URI); a changed byte does not verify.
 * - It carries the DigestValue xml-crypto's signing (`signXml`) computes for the same document, and, for
 *   the deterministic algorithms (RSA PKCS#1 v1.5, Ed25519), the same SignatureValue: the same SignedInfo.
 * - Signing one parses no XML (a count, not a duration).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { buildEidasExtensions } from '../../../adapters/eidas/request-extensions.ts';
import { buildAuthnRequest, signedAuthnRequest, type AuthnRequestInput } from '../../../adapters/saml/authn-request.ts';
import { signXml } from '../../../adapters/saml/sign-xml.ts';
import { DEFAULT_SIGNATURE_METHODS, restrictAlgorithms } from '../../../adapters/saml/xmldsig.ts';
import { XML_DSIG_ALGORITHMS } from '../../../hsm/algorithms.ts';
import type { Signer } from '../../../hsm/signer.ts';
import { selfSignedCertificate } from '../../../hsm/x509.ts';
import { freshToken } from '../../helpers/services.ts';
import { openSpKeys, SP, type SpKeys } from '../../helpers/saml/test-bed.ts';

const require = createRequire(import.meta.url);
const fromXmlCrypto = createRequire(require.resolve('xml-crypto'));
const { ExclusiveCanonicalization } = fromXmlCrypto('./exclusive-canonicalization.js') as {
  ExclusiveCanonicalization: new () => { process(node: unknown, options: object): string };
};
const libraryDomParser = (fromXmlCrypto('@xmldom/xmldom') as { DOMParser: { prototype: object } }).DOMParser;

const token = freshToken();
const dir = mkdtempSync(join(tmpdir(), 'gw-canonical-requests-'));
let keys: SpKeys;
const signers = new Map<string, { signer: Signer; certificatePem: string }>();

test.before(async () => {
  keys = await openSpKeys(token);
  for (const row of XML_DSIG_ALGORITHMS) {
    const signer =
      keys.store.activeSigners('saml').find((s) => s.alg === row.name) ?? (await keys.store.generate('saml', row.name));
    signers.set(row.name, {
      signer,
      certificatePem: await selfSignedCertificate(signer, { subject: `CN=sp ${row.name}`, days: 1 }),
    });
  }
});
test.after.always(async () => {
  await keys?.store.close();
});

const HOSTILE = 'a&b<c>d"e\'f\tg\nh\ri ]]> --> é€𝄞';
const legacy: AuthnRequestInput = {
  spEntityId: SP.entityId,
  acsUrl: SP.acsUrl,
  destination: 'https://idp.test.example/sso?a=1&b=2',
  minimumLoa: 'http://eidas.europa.eu/LoA/substantial',
  forceAuthn: false,
  issueInstant: new Date(),
};
const eidas: AuthnRequestInput = {
  ...legacy,
  forceAuthn: true,
  explicitNotPassive: true,
  nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  extensionsXml: buildEidasExtensions({
    spType: 'private',
    requested: [
      { name: 'person_identifier', required: true },
      { name: 'family_name', required: true },
      { name: 'gender', required: false },
      { name: 'birth_name', required: false },
    ],
  }),
};
const INPUTS: [string, AuthnRequestInput][] = [
  ['legacy', legacy],
  ['legacy, ForceAuthn', { ...legacy, forceAuthn: true }],
  ['eIDAS', eidas],
  [
    'hostile values',
    {
      ...legacy,
      spEntityId: `https://sp.example/${HOSTILE}`,
      acsUrl: `https://sp.example/acs?${HOSTILE}`,
      destination: `https://idp.example/${HOSTILE}`,
      nameIdFormat: HOSTILE,
      id: '_id-with.dots_and-dashes',
    },
  ],
];

/** xml-crypto's exclusive canonicalisation of the document's root (what a verifier digests). */
function canonicalOf(xml: string): string {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  return new ExclusiveCanonicalization().process(doc.documentElement, {});
}

function verifiesWithXmlsec1(xml: string, certificatePem: string): boolean {
  const file = join(dir, `request-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  writeFileSync(`${file}.crt`, certificatePem);
  try {
    execFileSync(
      'xmlsec1',
      [
        '--verify',
        '--pubkey-cert-pem',
        `${file}.crt`,
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

function verifiesWithXmlCrypto(xml: string, certificatePem: string): boolean {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const signature = doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature');
  if (signature.length !== 1) return false;
  const sig = new SignedXml({ publicCert: certificatePem });
  restrictAlgorithms(sig, DEFAULT_SIGNATURE_METHODS);
  sig.loadSignature(signature[0] as never);
  try {
    return sig.checkSignature(xml);
  } catch {
    return false;
  }
}

const valueOf = (xml: string, local: string) => new RegExp(`<ds:${local}>([^<]+)</ds:${local}>`).exec(xml)?.[1];

for (const [name, input] of INPUTS) {
  test(`the ${name} AuthnRequest is written in its exclusive canonical form`, (t) => {
    const { xml, signatureAt } = buildAuthnRequest(input);
    t.is(canonicalOf(xml), xml);
    t.is(xml.slice(signatureAt - '</saml:Issuer>'.length, signatureAt), '</saml:Issuer>');
  });
}

test('values keep their exact text through the canonical escaping', (t) => {
  const input = INPUTS.find(([name]) => name === 'hostile values')![1];
  const root = new DOMParser().parseFromString(buildAuthnRequest(input).xml, 'text/xml').documentElement!;
  t.is(root.getAttribute('Destination'), input.destination);
  t.is(root.getAttribute('AssertionConsumerServiceURL'), input.acsUrl);
  const issuer = root.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Issuer')[0]!;
  t.is(issuer.textContent, input.spEntityId);
  t.is(root.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:protocol', 'Extensions').length, 0);
  t.throws(() => buildAuthnRequest({ ...legacy, spEntityId: 'a\u0001b' }), { instanceOf: TypeError });
});

for (const row of XML_DSIG_ALGORITHMS) {
  const xmlsec1Knows = row.name === 'RS256' || row.name.startsWith('ES');
  test(`signed with ${row.name} as written, it verifies${xmlsec1Knows ? ' with xmlsec1 and' : ''} with xml-crypto, as xml-crypto would sign it`, async (t) => {
    const { signer, certificatePem } = signers.get(row.name)!;
    for (const [name, input] of INPUTS) {
      const fixed = { ...input, id: input.id ?? '_fixed' };
      const { xml } = await signedAuthnRequest(fixed, signer, certificatePem);
      if (xmlsec1Knows) t.true(verifiesWithXmlsec1(xml, certificatePem), `${name}: xmlsec1`);
      t.true(verifiesWithXmlCrypto(xml, certificatePem), `${name}: xml-crypto`);
      t.regex(xml, /<\/saml:Issuer><ds:Signature xmlns:ds="http:\/\/www.w3.org\/2000\/09\/xmldsig#"><ds:SignedInfo>/);
      const tampered = xml.replace('Comparison="minimum"', 'Comparison="exact"');
      if (xmlsec1Knows) t.false(verifiesWithXmlsec1(tampered, certificatePem), `${name}: xmlsec1, tampered`);
      t.false(verifiesWithXmlCrypto(tampered, certificatePem), `${name}: xml-crypto, tampered`);

      const byLibrary = await signXml(buildAuthnRequest(fixed).xml, { signer, certificatePem, after: 'Issuer' });
      t.is(valueOf(xml, 'DigestValue'), valueOf(byLibrary, 'DigestValue'), `${name}: DigestValue`);
      if (row.name === 'RS256' || row.name === 'EdDSA')
        t.is(valueOf(xml, 'SignatureValue'), valueOf(byLibrary, 'SignatureValue'), `${name}: SignatureValue`);
      t.is(valueOf(xml, 'X509Certificate'), valueOf(byLibrary, 'X509Certificate'), `${name}: KeyInfo`);
    }
  });
}

test.serial('signing an AuthnRequest parses no XML', async (t) => {
  const { signer, certificatePem } = signers.get('ES256')!;
  await signedAuthnRequest(legacy, signer, certificatePem); // warm the per-certificate caches
  const parsers = [DOMParser.prototype, libraryDomParser.prototype] as unknown as {
    parseFromString: (...args: unknown[]) => unknown;
  }[];
  let parses = 0;
  const originals = parsers.map((proto) => proto.parseFromString);
  parsers.forEach((proto, i) => {
    proto.parseFromString = function (this: unknown, ...args: unknown[]) {
      parses += 1;
      return originals[i]!.apply(this, args);
    };
  });
  try {
    for (const [, input] of INPUTS) await signedAuthnRequest(input, signer, certificatePem);
  } finally {
    parsers.forEach((proto, i) => (proto.parseFromString = originals[i]!));
  }
  t.is(parses, 0);
});
