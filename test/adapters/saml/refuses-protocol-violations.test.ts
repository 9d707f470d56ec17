/**
 * Protocol checks on validly signed responses (SAML-AUD-01, SAML-DST-01, SAML-RCP-01, SAML-TIME-01,
 * SAML-STA-01, SAML-ISS-01, SAML-SCD-01, LoA). Each failure after the signed InResponseTo is bound
 * carries the loginId, so the gateway can answer the RP with access_denied.
 */
import test from 'ava';
import { freshToken } from '../../helpers/services.ts';
import { refuses } from '../../helpers/saml/expect.ts';
import { responseXml } from '../../helpers/saml/response-builder.ts';
import { createTestIdp, signElement, type TestIdp } from '../../helpers/saml/test-idp.ts';
import { createSamlTestBed, openSpKeys, type SamlTestBed, type SpKeys } from '../../helpers/saml/test-bed.ts';

const token = freshToken();
let keys: SpKeys;
let bed: SamlTestBed;
let stranger: TestIdp;
const getBed = () => bed;
const bound = { loginKnown: true };
const minutes = (n: number) => new Date(Date.now() + n * 60_000);

test.before(async () => {
  keys = await openSpKeys(token);
  bed = await createSamlTestBed(keys);
  stranger = await createTestIdp({ entityId: 'https://stranger.test.example/metadata' });
});
test.after.always(async () => {
  await bed?.close();
  await keys?.store.close();
});

test(
  'wrong Audience',
  refuses,
  getBed,
  (f, b) => b.signedResponse({ ...f, audience: 'https://other-sp.example/metadata' }),
  'SAML_AUDIENCE_INVALID',
  bound,
);

test(
  'Audience differing by a trailing slash',
  refuses,
  getBed,
  (f, b) => b.signedResponse({ ...f, audience: `${f.audience}/` }),
  'SAML_AUDIENCE_INVALID',
  bound,
);

test(
  'wrong Destination',
  refuses,
  getBed,
  (f, b) => b.signedResponse({ ...f, destination: 'https://attacker.example/acs' }),
  'SAML_DESTINATION_INVALID',
  bound,
);

test(
  'missing Destination',
  refuses,
  getBed,
  (f, b) => b.signedResponse({ ...f, destination: null }),
  'SAML_DESTINATION_INVALID',
  bound,
);

test(
  'wrong Recipient',
  refuses,
  getBed,
  (f, b) => b.signedResponse({ ...f, recipient: 'https://attacker.example/acs' }),
  'SAML_RECIPIENT_INVALID',
  bound,
);

test(
  'expired Conditions',
  refuses,
  getBed,
  (f, b) => b.signedResponse({ ...f, notBefore: minutes(-30), notOnOrAfter: minutes(-10) }),
  'SAML_EXPIRED',
  bound,
);

test(
  'expired SubjectConfirmationData',
  refuses,
  getBed,
  (f, b) => b.signedResponse({ ...f, confirmationNotOnOrAfter: minutes(-10) }),
  'SAML_EXPIRED',
  bound,
);

test(
  'not yet valid',
  refuses,
  getBed,
  (f, b) => b.signedResponse({ ...f, notBefore: minutes(10), notOnOrAfter: minutes(20) }),
  'SAML_NOT_YET_VALID',
  bound,
);

test(
  'a response issued a day ago, kept valid by generous Conditions, is stale',
  refuses,
  getBed,
  (f, b) =>
    b.signedResponse({
      ...f,
      now: minutes(-24 * 60),
      notBefore: minutes(-24 * 60),
      notOnOrAfter: minutes(10),
      confirmationNotOnOrAfter: minutes(10),
    }),
  'SAML_STALE_MESSAGE',
  bound,
);

test(
  'a non-Success status on a signed Response without assertion',
  refuses,
  getBed,
  (f, b) =>
    signElement(responseXml({ ...f, status: 'urn:oasis:names:tc:SAML:2.0:status:Responder', assertionOverride: '' }), {
      id: f.responseId,
      privateKey: b.idp.privateKey,
      certificatePem: b.idp.certificatePem,
    }),
  'SAML_STATUS_NOT_SUCCESS',
  bound,
);

test(
  'a non-Success status on an unsigned Response is refused without naming the login',
  refuses,
  getBed,
  (f) => responseXml({ ...f, status: 'urn:oasis:names:tc:SAML:2.0:status:Requester', assertionOverride: '' }),
  'SAML_STATUS_NOT_SUCCESS',
  { loginKnown: false },
);

test(
  'a non-Success status around a signed assertion',
  refuses,
  getBed,
  (f, b) => b.signedResponse({ ...f, status: 'urn:oasis:names:tc:SAML:2.0:status:Responder' }),
  'SAML_STATUS_NOT_SUCCESS',
  bound,
);

test(
  'an unknown issuer, signed with its own key',
  refuses,
  getBed,
  (f) =>
    signElement(responseXml({ ...f, issuer: stranger.entityId }), {
      id: f.assertionId,
      privateKey: stranger.privateKey,
      certificatePem: stranger.certificatePem,
    }),
  'SAML_ISSUER_UNTRUSTED',
  { loginKnown: false },
);

test(
  'an AuthnContextClassRef that is not an eIDAS LoA',
  refuses,
  getBed,
  (f, b) => b.signedResponse({ ...f, loa: 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password' }),
  'SAML_LOA_INVALID',
  bound,
);

test(
  'only the Response signed under the default "assertion" policy',
  refuses,
  getBed,
  (f, b) =>
    signElement(responseXml(f), {
      id: f.responseId,
      privateKey: b.idp.privateKey,
      certificatePem: b.idp.certificatePem,
    }),
  'SAML_ASSERTION_NOT_SIGNED',
  { loginKnown: false },
);

test('a GET to the ACS is refused', async (t) => {
  const { AdapterError } = await import('../../../adapters/contract.ts');
  const error = await t.throwsAsync(
    bed.adapter.finishLogin({ method: 'GET', params: { SAMLResponse: 'PA==' }, browserBinding: 'b' }),
    { instanceOf: AdapterError },
  );
  t.is(error?.code, 'SAML_TRANSPORT_INVALID');
});

test('a SAMLResponse over 256 KiB is refused before parsing', async (t) => {
  const { AdapterError } = await import('../../../adapters/contract.ts');
  const big = Buffer.alloc(300 * 1024, 0x20).toString('base64');
  const error = await t.throwsAsync(
    bed.adapter.finishLogin({ method: 'POST', params: { SAMLResponse: big }, browserBinding: 'b' }),
    { instanceOf: AdapterError },
  );
  t.is(error?.code, 'SAML_TOO_LARGE');
});
