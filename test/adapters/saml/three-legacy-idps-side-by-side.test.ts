/**
 * Three differently configured legacy IdPs, side by side in one deployment (one token, one Redis):
 *
 * | IdP | attribute names | NameID | signatures | encryption | skew | LoAs |
 * |---|---|---|---|---|---|---|
 * | city-hall | urn:oid (shared map) | transient | assertion | forbidden | 0 s | low only |
 * | tax-office | its own (`sn`, `givenName`, …) | persistent | both | required (signed inside) | 60 s | substantial |
 * | university | basic | unspecified | response | allowed | 300 s | up to high |
 *
 * Each accepts its own shape, and each refuses what its configuration forbids with its own code.
 */
import test, { type ExecutionContext } from 'ava';
import { AdapterError } from '../../../adapters/contract.ts';
import type { KeyTransportDecrypter } from '../../../adapters/saml/xmlenc/decrypter.ts';
import { freshToken } from '../../helpers/services.ts';
import { assertionXml, responseXml, type ResponseFields } from '../../helpers/saml/response-builder.ts';
import { softwareDecrypter } from '../../helpers/saml/software-decrypter.ts';
import { createSamlTestBed, openSpKeys, type SamlTestBed, type SpKeys } from '../../helpers/saml/test-bed.ts';
import { createTestIdp, signElement } from '../../helpers/saml/test-idp.ts';
import { encryptAssertion } from '../../helpers/saml/xml-encrypt.ts';

const token = freshToken();
const LOW = 'http://eidas.europa.eu/LoA/low';
const SUBSTANTIAL = 'http://eidas.europa.eu/LoA/substantial';
const HIGH = 'http://eidas.europa.eu/LoA/high';
let keys: SpKeys;
let decrypter: KeyTransportDecrypter;
let cityHall: SamlTestBed;
let taxOffice: SamlTestBed;
let university: SamlTestBed;

test.before(async () => {
  keys = await openSpKeys(token);
  decrypter = await softwareDecrypter();
  cityHall = await createSamlTestBed(
    keys,
    {
      id: 'city-hall',
      maxLoa: LOW,
      clockSkewSeconds: 0,
      nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
    },
    undefined,
    { idp: await createTestIdp({ entityId: 'https://city-hall.example/md' }) },
  );
  taxOffice = await createSamlTestBed(
    keys,
    {
      id: 'tax-office',
      maxLoa: SUBSTANTIAL,
      allowedLoas: [SUBSTANTIAL],
      requiredSignatures: 'both',
      encryptedAssertions: 'required',
      nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      signatureAlgorithms: ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'],
      attributeNames: { sn: 'family_name', givenName: 'given_name', dateOfBirth: 'birthdate' },
    },
    undefined,
    { idp: await createTestIdp({ entityId: 'https://tax-office.example/md' }), decrypter },
  );
  university = await createSamlTestBed(
    keys,
    {
      id: 'university',
      maxLoa: HIGH,
      requiredSignatures: 'response',
      encryptedAssertions: 'allowed',
      clockSkewSeconds: 300,
    },
    undefined,
    { idp: await createTestIdp({ entityId: 'https://university.example/md' }), decrypter },
  );
});
test.after.always(async () => {
  for (const bed of [cityHall, taxOffice, university]) await bed?.close();
  await keys?.store.close();
});

/** The Response with a signed Assertion, optionally encrypted, optionally the Response signed too. */
function build(
  bed: SamlTestBed,
  f: ResponseFields,
  options: { encrypt?: boolean; signAssertion?: boolean; signResponse?: boolean },
): string {
  const key = { privateKey: bed.idp.privateKey, certificatePem: bed.idp.certificatePem };
  let assertion = assertionXml(f);
  if (options.signAssertion !== false) assertion = signElement(assertion, { id: f.assertionId, ...key });
  const body = options.encrypt ? encryptAssertion(assertion, decrypter.certificatePem) : assertion;
  const xml = responseXml({ ...f, assertionOverride: body });
  return options.signResponse ? signElement(xml, { id: f.responseId, ...key }) : xml;
}

async function refusedWith(t: ExecutionContext, promise: Promise<unknown>): Promise<string | undefined> {
  return (await t.throwsAsync(promise, { instanceOf: AdapterError }))?.code;
}

test.serial('each IdP asks for its own NameID format', async (t) => {
  for (const [bed, format] of [
    [cityHall, 'transient'],
    [taxOffice, 'persistent'],
    [university, 'unspecified'],
  ] as const) {
    const started = await bed.adapter.startLogin({
      loginId: 'x',
      browserBinding: 'b',
      minimumLoa: LOW,
      forceAuthn: false,
    });
    t.regex(
      Buffer.from((started as { fields: Record<string, string> }).fields.SAMLRequest!, 'base64').toString(),
      new RegExp(`NameIDPolicy AllowCreate="true" Format="[^"]*${format}"`),
    );
  }
});

test.serial('city hall: signed assertion, urn:oid names, LoA clipped to low', async (t) => {
  const { requestId } = await cityHall.start(undefined, LOW);
  const f = {
    ...cityHall.fields(requestId),
    loa: HIGH,
    attributes: { 'urn:oid:2.5.4.42': ['Ada'], 'urn:oid:2.5.4.4': ['Lovelace'] },
  };
  const { identity } = await cityHall.finish(build(cityHall, f, {}));
  t.is(identity.loa, LOW, 'high asserted, low believed');
  t.deepEqual(identity.attributes, { given_name: ['Ada'], family_name: ['Lovelace'] });
});

test.serial('tax office: encrypted assertion, signed inside and outside, its own attribute names', async (t) => {
  const { requestId } = await taxOffice.start();
  const f = {
    ...taxOffice.fields(requestId),
    attributes: { sn: ['Lovelace'], givenName: ['Ada'], dateOfBirth: ['1815-12-10'] },
  };
  const { identity } = await taxOffice.finish(build(taxOffice, f, { encrypt: true, signResponse: true }));
  t.deepEqual(identity.attributes, { family_name: ['Lovelace'], given_name: ['Ada'], birthdate: ['1815-12-10'] });
  t.is(identity.evidence.signaturesVerified, 2);
});

test.serial('university: only the Response signed, encrypted or not, generous skew', async (t) => {
  for (const encrypt of [false, true]) {
    const { requestId } = await university.start();
    const f = { ...university.fields(requestId), notBefore: new Date(Date.now() + 120_000) };
    const { identity } = await university.finish(
      build(university, f, { encrypt, signAssertion: false, signResponse: true }),
    );
    t.is(identity.loa, SUBSTANTIAL);
  }
});

test.serial('what one IdP accepts, another refuses with its own code', async (t) => {
  let r = await cityHall.start(undefined, LOW);
  t.is(
    await refusedWith(
      t,
      cityHall.finish(
        build(cityHall, { ...cityHall.fields(r.requestId), loa: LOW, notBefore: new Date(Date.now() + 120_000) }, {}),
      ),
    ),
    'SAML_NOT_YET_VALID',
    'skew 0',
  );
  r = await cityHall.start(undefined, LOW);
  t.is(
    await refusedWith(
      t,
      cityHall.finish(build(cityHall, { ...cityHall.fields(r.requestId), loa: LOW }, { encrypt: true })),
    ),
    'SAML_ENCRYPTED_ASSERTION_FORBIDDEN',
  );
  r = await taxOffice.start();
  t.is(
    await refusedWith(t, taxOffice.finish(build(taxOffice, taxOffice.fields(r.requestId), { signResponse: true }))),
    'SAML_ASSERTION_NOT_ENCRYPTED',
  );
  r = await taxOffice.start();
  t.is(
    await refusedWith(t, taxOffice.finish(build(taxOffice, taxOffice.fields(r.requestId), { encrypt: true }))),
    'SAML_RESPONSE_NOT_SIGNED',
  );
  r = await taxOffice.start(undefined, LOW);
  t.is(
    await refusedWith(
      t,
      taxOffice.finish(
        build(taxOffice, { ...taxOffice.fields(r.requestId), loa: LOW }, { encrypt: true, signResponse: true }),
      ),
    ),
    'SAML_LOA_NOT_ALLOWED',
  );
  r = await university.start();
  t.is(
    await refusedWith(t, university.finish(build(university, university.fields(r.requestId), {}))),
    'SAML_RESPONSE_NOT_SIGNED',
  );
  r = await university.start();
  t.is(
    await refusedWith(
      t,
      university.finish(build(university, university.fields(r.requestId), { encrypt: true, signAssertion: false })),
    ),
    'SAML_RESPONSE_NOT_SIGNED',
    'a forged assertion encrypted with our public key',
  );
});
