/**
 * The eIDAS AuthnRequest (EID-R1..R6): signed in the HSM with RSA-PSS (verifiable with xml-crypto and a
 * PSS class), SPType, RequestedAttributes each with isRequired (the natural minimum data set required),
 * NameIDPolicy, RequestedAuthnContext `minimum` with the LoA URI, IsPassive false, ForceAuthn on every
 * request (EID-R1; a configuration turning it off is refused); and the profile's limits.
 */
import { constants, createPublicKey, verify, X509Certificate } from 'node:crypto';
import test from 'ava';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { AdapterError } from '../../adapters/contract.ts';
import { createEidasAdapter } from '../../adapters/eidas/eidas-adapter.ts';
import type { KeyTransportDecrypter } from '../../adapters/saml/xmlenc/decrypter.ts';
import { freshToken } from '../helpers/services.ts';
import {
  createEidasBed,
  hsmDecrypter,
  HIGH,
  openEidasSpKeys,
  type EidasBed,
  type EidasSpKeys,
} from '../helpers/saml/eidas-bed.ts';

const token = freshToken();
let keys: EidasSpKeys;
let decrypter: KeyTransportDecrypter;
let bed: EidasBed;
let always: EidasBed;
const PSS = 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1';
const NP = 'http://eidas.europa.eu/attributes/naturalperson/';

test.before(async () => {
  keys = await openEidasSpKeys(token);
  decrypter = await hsmDecrypter(keys);
  bed = await createEidasBed(keys, decrypter, {
    idp: {
      requestedAttributes: [
        { name: 'gender', required: false },
        { name: 'birth_name', required: false },
      ],
      nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    },
  });
  always = await createEidasBed(keys, decrypter, { idp: { id: 'eidas-always', spType: 'private' } }); // alwaysForceAuthn left to its default
});
test.after.always(async () => {
  await bed?.close();
  await always?.close();
  await keys?.store.close();
});

function pssVerifier() {
  return class {
    getAlgorithmName = () => PSS;
    getSignature = () => {
      throw new Error('verify only');
    };
    verifySignature = (material: string, key: string, value: string) =>
      verify(
        'sha256',
        Buffer.from(material),
        { key: createPublicKey(key), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        Buffer.from(value, 'base64'),
      );
  };
}

test.serial('the request is signed in the HSM with RSA-PSS and verifies with the published certificate', async (t) => {
  const { requestXml } = await bed.start();
  const doc = new DOMParser().parseFromString(requestXml, 'text/xml');
  const signature = doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0]!;
  t.is(
    signature
      .getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'SignatureMethod')[0]!
      .getAttribute('Algorithm'),
    PSS,
  );
  const sig = new SignedXml({ publicCert: keys.eidasCertificatePem, getCertFromKeyInfo: () => null });
  (sig.SignatureAlgorithms as Record<string, unknown>)[PSS] = pssVerifier();
  sig.loadSignature(signature as never);
  t.true(sig.checkSignature(requestXml));
  t.true(
    new X509Certificate(keys.eidasCertificatePem).publicKey.equals(
      keys.store.activeSigner('saml', 'PS256').publicKey(),
    ),
  );
});

test.serial(
  'the request carries SPType, RequestedAttributes with isRequired, NameIDPolicy and a minimum LoA',
  async (t) => {
    const { requestXml } = await bed.start({ minimumLoa: HIGH });
    t.regex(
      requestXml,
      /<samlp:Extensions><eidas:SPType xmlns:eidas="http:\/\/eidas.europa.eu\/saml-extensions">public<\/eidas:SPType><eidas:RequestedAttributes xmlns:eidas="http:\/\/eidas.europa.eu\/saml-extensions">/,
    );
    for (const name of ['PersonIdentifier', 'CurrentFamilyName', 'CurrentGivenName', 'DateOfBirth']) {
      t.regex(
        requestXml,
        new RegExp(
          `Name="${NP}${name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" isRequired="true"`,
        ),
        name,
      );
    }
    t.regex(requestXml, new RegExp(`Name="${NP}Gender" NameFormat="[^"]+" isRequired="false"`));
    t.regex(requestXml, new RegExp(`Name="${NP}BirthName" NameFormat="[^"]+" isRequired="false"`));
    t.regex(
      requestXml,
      /<samlp:NameIDPolicy AllowCreate="true" Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"><\/samlp:NameIDPolicy>/,
    );
    t.regex(
      requestXml,
      /<samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">http:\/\/eidas.europa.eu\/LoA\/high<\/saml:AuthnContextClassRef>/,
    );
    t.regex(requestXml, /IsPassive="false"/);
    t.regex(requestXml, /ForceAuthn="true"/);
    t.true(
      requestXml.indexOf('</ds:Signature>') < requestXml.indexOf('<samlp:Extensions>'),
      'Signature before Extensions (schema order)',
    );
  },
);

test.serial('ForceAuthn is sent on every eIDAS request (EID-R1), whatever the policy asks', async (t) => {
  t.regex((await bed.start({ forceAuthn: false })).requestXml, /ForceAuthn="true"/);
  const { requestXml } = await always.start();
  t.regex(requestXml, /ForceAuthn="true"/);
  t.regex(requestXml, /<eidas:SPType xmlns:eidas="[^"]+">private<\/eidas:SPType>/);
});

test.serial('the eIDAS profile refuses configurations that break it', async (t) => {
  const ctx = {
    keys: keys.store,
    state: bed.state,
    digestKey: Buffer.alloc(32, 1),
    baseUrl: 'https://gateway.test.example',
    now: () => new Date(),
  };
  const base = { id: 'x', displayName: 'x', metadataFile: '/nonexistent', maxLoa: HIGH, country: 'DE' } as const;
  const signing = { signer: keys.store.activeSigner('saml', 'PS256'), certificatePem: keys.eidasCertificatePem };
  const cases: [string, Promise<unknown>][] = [
    [
      'RS256 request signing',
      createEidasAdapter(base, bed.sp, ctx, {
        signing: { signer: keys.store.activeSigner('saml', 'RS256'), certificatePem: keys.rsaCertificatePem },
        decrypter,
      }),
    ],
    [
      'assertion-only signatures',
      createEidasAdapter({ ...base, requiredSignatures: 'assertion' }, bed.sp, ctx, { signing, decrypter }),
    ],
    [
      'rsa-sha256 accepted from the node',
      createEidasAdapter(
        { ...base, signatureAlgorithms: ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'] },
        bed.sp,
        ctx,
        { signing, decrypter },
      ),
    ],
    [
      'an email NameID format',
      createEidasAdapter(
        { ...base, nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress' },
        bed.sp,
        ctx,
        { signing, decrypter },
      ),
    ],
    ['no decryption key', createEidasAdapter(base, bed.sp, ctx, { signing })],
    [
      'ForceAuthn turned off',
      createEidasAdapter({ ...base, alwaysForceAuthn: false }, bed.sp, ctx, { signing, decrypter }),
    ],
    [
      'an attribute eIDAS does not define',
      createEidasAdapter({ ...base, requestedAttributes: [{ name: 'email', required: false }] }, bed.sp, ctx, {
        signing,
        decrypter,
      }),
    ],
  ];
  for (const [what, promise] of cases) {
    const error = await t.throwsAsync(promise, { instanceOf: AdapterError }, what);
    t.is(error?.code, 'EIDAS_CONFIG_INVALID', `${what}: ${error?.detail ?? ''}`);
  }
});
