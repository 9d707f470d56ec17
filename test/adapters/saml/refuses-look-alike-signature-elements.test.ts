/**
 * Look-alikes of XML-DSig elements (issue #14, the exact-name signature loader): a Signature whose name
 * or namespace differs only in case, elements out of the XML-DSig schema's order or foreign to it inside a
 * Signature, a SignatureValue cut by a comment. xml-crypto's own `loadSignature` takes several of these
 * elements by local name in any namespace, as the first match anywhere under Signature; the gateway reads
 * the exact elements and refuses every other shape, so the algorithm and value the check uses are the
 * ones the shape check approved. None is bound to the pending login.
 */
import test from 'ava';
import { freshToken } from '../../helpers/services.ts';
import { attacks } from '../../helpers/saml/attacks.ts';
import { refuses } from '../../helpers/saml/expect.ts';
import { createSamlTestBed, openSpKeys, type SamlTestBed, type SpKeys } from '../../helpers/saml/test-bed.ts';

const token = freshToken();
let keys: SpKeys;
let bed: SamlTestBed;
const getBed = () => bed;
const unbound = { loginKnown: false };

test.before(async () => {
  keys = await openSpKeys(token);
  bed = await createSamlTestBed(keys);
});
test.after.always(async () => {
  await bed?.close();
  await keys?.store.close();
});

test('the baseline these shapes are made from is accepted, one signature verified', async (t) => {
  const { requestId, loginId } = await bed.start();
  const result = await bed.finish(bed.signedResponse(bed.fields(requestId)));
  t.is(result.loginId, loginId);
  t.is(result.identity.evidence.signaturesVerified, 1);
});

for (const [shape, code] of [
  ['response.signature-lowercase-name', 'SAML_SIGNATURE_WRAPPING'],
  ['response.signature-uppercase-name.beside-valid-signature', 'SAML_SIGNATURE_WRAPPING'],
  ['response.signature-namespace-uppercase.beside-valid-signature', 'SAML_SIGNATURE_WRAPPING'],
  ['response.signature-keyinfo-before-signedinfo', 'SAML_SIGNATURE_INVALID'],
  ['response.signature-keyinfo-first.foreign-canonicalization-method', 'SAML_SIGNATURE_INVALID'],
  ['response.signature-foreign-element-after-keyinfo', 'SAML_SIGNATURE_INVALID'],
  ['response.signature-value-comment-inside', 'SAML_SIGNATURE_INVALID'],
] as const) {
  test(shape, refuses, getBed, (f, b) => attacks[shape](b.signedResponse(f)), code, unbound);
}
