/**
 * An EncryptedAssertion costs an HSM unwrap only when its Response names a pending request of this browser and
 * IdP, once per request, and a signed Response only the first time it is seen (legacy IdP: `requiredSignatures:
 * assertion`, encryption allowed). Anyone can encrypt to our public key or keep a signed Response of their own:
 * before, one RelayState let a stranger spend an HSM operation per POST (attacker reviews, twenty-ninth and
 * thirtieth rounds). Each refusal has the code the signed binding would have given, and nothing is decrypted.
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
let keys: SpKeys;
let bed: SamlTestBed;
let software: KeyTransportDecrypter;
let unwraps = 0;

test.before(async () => {
  keys = await openSpKeys(token);
  software = await softwareDecrypter();
  const counting: KeyTransportDecrypter = {
    certificatePem: software.certificatePem,
    unwrap: (key, params) => {
      unwraps += 1;
      return software.unwrap(key, params);
    },
  };
  const config = { requiredSignatures: 'assertion', encryptedAssertions: 'allowed' } as const;
  bed = await createSamlTestBed(keys, { id: 'town', ...config }, undefined, {
    idp: await createTestIdp({ entityId: 'https://town.example/md' }),
    decrypter: counting,
  });
});
test.after.always(async () => {
  await bed?.close();
  await keys?.store.close();
});

const idpKey = () => ({ privateKey: bed.idp.privateKey, certificatePem: bed.idp.certificatePem });

/** An unsigned Response around the IdP's signed, encrypted Assertion; `response` changes the Response alone. */
function unsignedResponse(f: ResponseFields, response: Partial<ResponseFields> = {}, signAssertion = true): string {
  const xml = assertionXml(f);
  const assertion = signAssertion ? signElement(xml, { id: f.assertionId, ...idpKey() }) : xml;
  return responseXml({ ...f, ...response, assertionOverride: encryptAssertion(assertion, software.certificatePem) });
}

async function refusedWithoutDecrypting(t: ExecutionContext, xml: string, code: string, browser?: string) {
  const before = unwraps;
  const error = await t.throwsAsync(bed.finish(xml, browser), { instanceOf: AdapterError });
  t.is(error?.code as string | undefined, code, error?.detail);
  t.is(unwraps, before, 'nothing was decrypted');
}

test.serial('the answer to a pending request of this browser is decrypted and accepted', async (t) => {
  const { requestId } = await bed.start();
  const before = unwraps;
  const { identity } = await bed.finish(unsignedResponse(bed.fields(requestId)));
  t.is(identity.evidence.signaturesVerified, 1, 'the Assertion signature');
  t.is(unwraps, before + 1);
});

test.serial('a Response naming no request is not decrypted', async (t) => {
  const { requestId } = await bed.start();
  await refusedWithoutDecrypting(
    t,
    unsignedResponse(bed.fields(requestId), { inResponseTo: null }),
    'SAML_UNSOLICITED',
  );
});

test.serial('a Response naming an unknown request is not decrypted, and leaves no mark behind', async (t) => {
  await refusedWithoutDecrypting(t, unsignedResponse(bed.fields('_made-up-request')), 'SAML_INRESPONSETO_UNKNOWN');
  t.deepEqual(
    await bed.redis.keys(`${bed.prefix}adapter:saml:decrypted-for:*_made-up-request*`),
    [],
    'a flood of junk keeps nothing',
  );
});

test.serial("a Response naming another browser's request is not decrypted", async (t) => {
  const { requestId } = await bed.start('browser-binding-B');
  await refusedWithoutDecrypting(t, unsignedResponse(bed.fields(requestId)), 'SAML_INRESPONSETO_SESSION_MISMATCH');
  const { identity } = await bed.finish(unsignedResponse(bed.fields(requestId)), 'browser-binding-B');
  t.is(identity.idp, 'town', 'the request was only read: its own browser still completes it');
});

test.serial('a request is decrypted for once: a forged answer spends it', async (t) => {
  const { requestId } = await bed.start();
  const forged = unsignedResponse(bed.fields(requestId), {}, false);
  const before = unwraps;
  const error = await t.throwsAsync(bed.finish(forged), { instanceOf: AdapterError });
  t.is(error?.code, 'SAML_SIGNATURE_MISSING', 'decrypted, then refused: nothing signed it');
  t.is(unwraps, before + 1);
  await refusedWithoutDecrypting(t, unsignedResponse(bed.fields(requestId), {}, false), 'SAML_INRESPONSETO_UNKNOWN');
});

test.serial('a signed Response seen before is a replay, not decrypted again', async (t) => {
  const { requestId } = await bed.start();
  const f = bed.fields(requestId);
  const signed = signElement(unsignedResponse(f), { id: f.responseId, ...idpKey() });
  await bed.finish(signed);
  // a fresh request of the same browser: the old signed Response posted again with it
  await bed.start();
  await refusedWithoutDecrypting(t, signed, 'SAML_REPLAY');
});

test.serial("a replayed signed Response spends none of its request's one decryption", async (t) => {
  const { requestId } = await bed.start();
  const f = bed.fields(requestId);
  const signed = signElement(unsignedResponse(f), { id: f.responseId, ...idpKey() });
  // a stranger posts it first: its ID is spent, nothing of this browser's
  await refusedWithoutDecrypting(t, signed, 'SAML_INRESPONSETO_SESSION_MISMATCH', 'browser-binding-B');
  await refusedWithoutDecrypting(t, signed, 'SAML_REPLAY');
  // the IdP answers the same request again, with a fresh Response: still this browser's one decryption
  const again = bed.fields(requestId);
  const reissued = signElement(unsignedResponse(again), { id: again.responseId, ...idpKey() });
  const { identity } = await bed.finish(reissued);
  t.is(identity.idp, 'town');
});
