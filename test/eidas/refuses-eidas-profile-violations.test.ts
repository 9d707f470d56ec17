/**
 * Every eIDAS response rule has its own code (security-conformance.md §5, EID-R7..R11, EID-C1/C2):
 * LoA below the requested one, non-notified LoA, minimum data sets, formats, identifiers, NameFormat,
 * plain assertions, RSA PKCS#1 v1.5 signatures, and every refused encryption shape (with uniform
 * decryption errors). Failures after the signed InResponseTo is bound name the login.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { AdapterError } from '../../adapters/contract.ts';
import type { AdapterErrorCode } from '../../adapters/errors/registry.ts';
import type { KeyTransportDecrypter } from '../../adapters/saml/xmlenc/decrypter.ts';
import { freshToken } from '../helpers/services.ts';
import {
  createEidasBed,
  hsmDecrypter,
  HIGH,
  openEidasSpKeys,
  SUBSTANTIAL,
  type EidasBed,
  type EidasSpKeys,
  type ResponseOptions,
} from '../helpers/saml/eidas-bed.ts';
import { eidasAttributes, ERIKA, RSA_SHA256 } from '../helpers/saml/eidas-node.ts';

const token = freshToken();
let keys: EidasSpKeys;
let decrypter: KeyTransportDecrypter;
let bed: EidasBed;
let legal: EidasBed;
const NP = 'http://eidas.europa.eu/attributes/naturalperson/';
const XENC = 'http://www.w3.org/2001/04/xmlenc#';

test.before(async () => {
  keys = await openEidasSpKeys(token);
  decrypter = await hsmDecrypter(keys);
  bed = await createEidasBed(keys, decrypter);
  legal = await createEidasBed(keys, decrypter, { idp: { id: 'eidas-de-legal', legalPerson: true } });
});
test.after.always(async () => {
  await bed?.close();
  await legal?.close();
  await keys?.store.close();
});

function without(name: string): Record<string, string[]> {
  const attributes = eidasAttributes(ERIKA);
  delete attributes[`${NP}${name}`];
  return attributes;
}
function withValue(name: string, value: string): Record<string, string[]> {
  return { ...eidasAttributes(ERIKA), [`${NP}${name}`]: [value] };
}

const refuses = test.macro({
  async exec(
    t: ExecutionContext,
    options: ResponseOptions & { minimumLoa?: string; bed?: () => EidasBed; mangle?: (xml: string) => string },
    code: AdapterErrorCode,
    loginKnown: boolean,
  ) {
    const target = options.bed?.() ?? bed;
    const { requestId, loginId } = await target.start({ minimumLoa: options.minimumLoa ?? SUBSTANTIAL });
    const xml = target.response(
      requestId,
      options.recipientCertificatePem === ''
        ? { ...options, recipientCertificatePem: keys.eidasCertificatePem }
        : options,
    );
    const error = await t.throwsAsync(target.finish(options.mangle ? options.mangle(xml) : xml), {
      instanceOf: AdapterError,
    });
    t.is(error?.code, code, error?.detail);
    t.is(error?.loginId, loginKnown ? loginId : undefined);
  },
  title: (title = '', _options: unknown, code: AdapterErrorCode) => `${title} → ${code}`,
});

test.serial(
  'LoA substantial when high was requested',
  refuses,
  { minimumLoa: HIGH, loa: SUBSTANTIAL },
  'EIDAS_LOA_INSUFFICIENT',
  true,
);
test.serial(
  'a non-notified LoA',
  refuses,
  { loa: 'http://eidas.europa.eu/NotNotified/LoA/high' },
  'EIDAS_LOA_NOT_NOTIFIED',
  true,
);
test.serial(
  'no DateOfBirth',
  refuses,
  { attributes: without('DateOfBirth') },
  'EIDAS_MANDATORY_ATTRIBUTE_MISSING',
  true,
);
test.serial(
  'no PersonIdentifier',
  refuses,
  { attributes: without('PersonIdentifier') },
  'EIDAS_MANDATORY_ATTRIBUTE_MISSING',
  true,
);
test.serial(
  'no FamilyName',
  refuses,
  { attributes: without('CurrentFamilyName') },
  'EIDAS_MANDATORY_ATTRIBUTE_MISSING',
  true,
);
test.serial(
  'no FirstName',
  refuses,
  { attributes: without('CurrentGivenName') },
  'EIDAS_MANDATORY_ATTRIBUTE_MISSING',
  true,
);
test.serial(
  'DateOfBirth not an xs:date',
  refuses,
  { attributes: withValue('DateOfBirth', '12/08/1964') },
  'EIDAS_ATTRIBUTE_INVALID',
  true,
);
test.serial(
  'DateOfBirth that does not exist',
  refuses,
  { attributes: withValue('DateOfBirth', '1964-02-30') },
  'EIDAS_ATTRIBUTE_INVALID',
  true,
);
test.serial(
  'two FamilyName values',
  refuses,
  { attributes: { ...eidasAttributes(ERIKA), [`${NP}CurrentFamilyName`]: ['A', 'B'] } },
  'EIDAS_ATTRIBUTE_INVALID',
  true,
);
test.serial(
  'a Gender outside the vocabulary',
  refuses,
  { attributes: withValue('Gender', 'F') },
  'EIDAS_ATTRIBUTE_INVALID',
  true,
);
test.serial(
  'a CurrentAddress that is not base64',
  refuses,
  { attributes: withValue('CurrentAddress', 'Unter den Linden 1') },
  'EIDAS_ATTRIBUTE_INVALID',
  true,
);
test.serial(
  'a BirthName with a control character XML allows (DEL)',
  refuses,
  { attributes: withValue('BirthName', 'Gab&#x7F;ler') },
  'EIDAS_ATTRIBUTE_INVALID',
  true,
);
test.serial(
  'a BirthName with a control character XML forbids, by reference',
  refuses,
  { attributes: withValue('BirthName', 'Gab&#x1;ler') },
  'SAML_MALFORMED_XML',
  false, // refused as the decrypted assertion is parsed, before the login is looked up
);
test.serial(
  'a PersonIdentifier for another receiving country',
  refuses,
  { attributes: withValue('PersonIdentifier', 'DE/IT/0123456789') },
  'EIDAS_PERSON_IDENTIFIER_INVALID',
  true,
);
test.serial(
  'a PersonIdentifier from another node country',
  refuses,
  { attributes: withValue('PersonIdentifier', 'AT/FR/0123456789') },
  'EIDAS_PERSON_IDENTIFIER_INVALID',
  true,
);
test.serial(
  'attributes with NameFormat basic',
  refuses,
  { nameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic' },
  'EIDAS_ATTRIBUTE_NAME_FORMAT_INVALID',
  true,
);
test.serial('a plain (unencrypted) assertion', refuses, { encrypt: false }, 'EIDAS_ASSERTION_NOT_ENCRYPTED', true);
test.serial(
  'an unsigned Response around a signed encrypted assertion',
  refuses,
  { signResponse: false, signAssertion: true },
  'SAML_RESPONSE_NOT_SIGNED',
  false,
);
test.serial(
  'a forged assertion encrypted with our public key, nothing signed',
  refuses,
  { signResponse: false },
  'SAML_RESPONSE_NOT_SIGNED',
  false,
);
test.serial(
  'a Response signed with RSA PKCS#1 v1.5 (rsa-sha256)',
  refuses,
  { method: RSA_SHA256 },
  'SAML_ALG_NOT_ALLOWED',
  false,
);
test.serial(
  'content encrypted with AES-256-CBC',
  refuses,
  { encrypt: { content: `${XENC}aes256-cbc` } },
  'SAML_ENC_ALG_NOT_ALLOWED',
  false,
);
test.serial(
  'the key transported with RSA PKCS#1 v1.5',
  refuses,
  { encrypt: { keyTransport: `${XENC}rsa-1_5` } },
  'SAML_ENC_ALG_NOT_ALLOWED',
  false,
);
test.serial(
  'an ECDH-ES key agreement',
  refuses,
  { encrypt: { agreement: true } },
  'SAML_ENC_KEY_AGREEMENT_UNSUPPORTED',
  false,
);
test.serial(
  'a GCM tag truncated to 8 bytes',
  refuses,
  { encrypt: { truncateTag: 8 } },
  'SAML_DECRYPTION_FAILED',
  false,
);
test.serial(
  'a ciphertext with one bit flipped',
  refuses,
  { encrypt: { tamper: true } },
  'SAML_DECRYPTION_FAILED',
  false,
);
test.serial(
  'a key wrapped for someone else',
  refuses,
  { recipientCertificatePem: '' },
  'SAML_DECRYPTION_FAILED',
  false,
);
test.serial(
  'a legal-person login without LegalName',
  refuses,
  {
    bed: () => legal,
    person: { ...ERIKA, legal: { identifier: 'DE/FR/HRB-12345', name: '' } },
    attributes: {
      ...eidasAttributes(ERIKA),
      'http://eidas.europa.eu/attributes/legalperson/LegalPersonIdentifier': ['DE/FR/HRB-12345'],
    },
  },
  'EIDAS_LEGAL_PERSON_ATTRIBUTE_MISSING',
  true,
);

test.serial('a legal-person login yields the legal person and its representative', async (t) => {
  const { requestId } = await legal.start();
  const result = await legal.finish(
    legal.response(requestId, {
      person: { ...ERIKA, legal: { identifier: 'DE/FR/HRB-12345', name: 'Musterfirma GmbH' } },
    }),
  );
  t.deepEqual(result.identity.attributes.legal_person_identifier, ['DE/FR/HRB-12345']);
  t.deepEqual(result.identity.attributes.legal_name, ['Musterfirma GmbH']);
  t.deepEqual(result.identity.attributes.given_name, ['Erika']);
});

test.serial(
  'the natural-person entry drops the legal attributes it did not ask for and says it is an eIDAS node',
  async (t) => {
    const { requestId } = await bed.start();
    const result = await bed.finish(
      bed.response(requestId, {
        person: { ...ERIKA, legal: { identifier: 'DE/FR/HRB-12345', name: 'Musterfirma GmbH' } },
      }),
    );
    t.is(result.identity.attributes.legal_person_identifier, undefined);
    t.is(result.identity.attributes.legal_name, undefined);
    t.deepEqual(result.identity.attributes.given_name, ['Erika']);
    t.deepEqual(result.identity.origin, { kind: 'eidas-node', country: 'DE', legalPerson: false });
    const company = await legal.start();
    const person = { ...ERIKA, legal: { identifier: 'DE/FR/HRB-12345', name: 'Musterfirma GmbH' } };
    t.deepEqual((await legal.finish(legal.response(company.requestId, { person }))).identity.origin, {
      kind: 'eidas-node',
      country: 'DE',
      legalPerson: true,
    });
  },
);

test.serial('decryption errors are uniform: wrong tag and wrong key give the same code and message', async (t) => {
  const messages = new Set<string>();
  for (const options of [
    { encrypt: { tamper: true } },
    { encrypt: { truncateTag: 1 } },
    { recipientCertificatePem: keys.eidasCertificatePem },
  ]) {
    const { requestId } = await bed.start();
    const error = await t.throwsAsync(bed.finish(bed.response(requestId, options)), { instanceOf: AdapterError });
    t.is(error?.code, 'SAML_DECRYPTION_FAILED');
    messages.add(error!.message);
  }
  t.is(messages.size, 1);
});
