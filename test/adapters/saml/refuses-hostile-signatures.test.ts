/**
 * Signature attacks (security-conformance.md §3.2): tampering, signature exclusion, wrapping (XSW),
 * algorithm downgrade, KeyInfo substitution, comment truncation, DTDs. None is bound to the pending
 * login: the InResponseTo of an unverified message is never read.
 */
import { readFile } from 'node:fs/promises';
import test from 'ava';
import { freshToken } from '../../helpers/services.ts';
import { attacks } from '../../helpers/saml/attacks.ts';
import { refused, refuses } from '../../helpers/saml/expect.ts';
import { createTestIdp, type TestIdp } from '../../helpers/saml/test-idp.ts';
import { createSamlTestBed, openSpKeys, type SamlTestBed, type SpKeys } from '../../helpers/saml/test-bed.ts';

const token = freshToken();
let keys: SpKeys;
let bed: SamlTestBed;
let attacker: TestIdp;
const getBed = () => bed;
const unbound = { loginKnown: false };

test.before(async () => {
  keys = await openSpKeys(token);
  bed = await createSamlTestBed(keys);
  attacker = await createTestIdp({ entityId: 'https://idp.test.example/metadata' });
});
test.after.always(async () => {
  await bed?.close();
  await keys?.store.close();
});

test(
  'an attribute changed after signing',
  refuses,
  getBed,
  (f, b) => attacks['response.assertion-signed.attribute-tampered'](b.signedResponse(f)),
  'SAML_SIGNATURE_INVALID',
  unbound,
);

test(
  'the signature removed',
  refuses,
  getBed,
  (f, b) => attacks['response.assertion-unsigned.signature-removed'](b.signedResponse(f)),
  'SAML_SIGNATURE_MISSING',
  unbound,
);

test(
  'XSW3: an unsigned evil assertion before the signed one',
  refuses,
  getBed,
  (f, b) => attacks['response.evil-assertion-before.signed-assertion-after'](b.signedResponse(f), f),
  'SAML_MULTIPLE_ASSERTIONS',
  unbound,
);

test(
  'XSW4: the signed assertion wrapped inside an evil one',
  refuses,
  getBed,
  (f, b) => attacks['response.evil-assertion.signed-assertion-wrapped'](b.signedResponse(f), f),
  'SAML_SIGNATURE_WRAPPING',
  unbound,
);

test(
  'XSW7: an evil assertion with the same ID in Extensions',
  refuses,
  getBed,
  (f, b) => attacks['response.extensions-evil-assertion.same-id'](b.signedResponse(f), f),
  'SAML_DUPLICATE_ID',
  unbound,
);

test(
  'XSW8: the original assertion inside ds:Object',
  refuses,
  getBed,
  (f, b) => attacks['response.signature-object.original-assertion-inside'](b.signedResponse(f), f),
  'SAML_SIGNATURE_WRAPPING',
  unbound,
);

test(
  'XSW12: a second root after the signed response',
  refuses,
  getBed,
  (f, b) => attacks['response.signed.trailing-root'](b.signedResponse(f)),
  'SAML_MALFORMED_XML',
  unbound,
);

test(
  'an assertion re-signed by an attacker who embeds their own certificate',
  refuses,
  getBed,
  (f) => attacks['response.assertion-resigned-by-attacker'](f, attacker),
  'SAML_SIGNATURE_UNTRUSTED_KEY',
  unbound,
);

test(
  'a signature made with rsa-sha1 and a sha1 digest',
  refuses,
  getBed,
  (f, b) => attacks['response.assertion-signed.rsa-sha1'](f, b.idp),
  'SAML_ALG_NOT_ALLOWED',
  unbound,
);

test(
  'a comment splitting the NameID',
  refuses,
  getBed,
  (f, b) => attacks['response.nameid-comment.signed'](f, b.idp),
  'SAML_COMMENT_IN_IDENTITY',
  unbound,
);

test(
  'two assertions, each signed by the IdP',
  refuses,
  getBed,
  (f, b) => attacks['response.two-signed-assertions'](f, b.idp),
  'SAML_MULTIPLE_ASSERTIONS',
  unbound,
);

for (const [fixture, code] of [
  ['response.doctype-xxe.xml', 'SAML_DTD_FORBIDDEN'],
  ['response.billion-laughs.xml', 'SAML_DTD_FORBIDDEN'],
  ['response.malformed.unclosed.xml', 'SAML_MALFORMED_XML'],
] as const) {
  test(`fixture invalid/${fixture}`, async (t) => {
    const xml = await readFile(new URL(`../../fixtures/saml/invalid/${fixture}`, import.meta.url), 'utf8');
    const error = await refused(t, bed.finish(xml), code);
    t.is(error.loginId, undefined);
  });
}

test('the same attack on a pending login leaves that login answerable', async (t) => {
  const { requestId, loginId } = await bed.start();
  const f = bed.fields(requestId);
  await refused(
    t,
    bed.finish(attacks['response.assertion-signed.attribute-tampered'](bed.signedResponse(f))),
    'SAML_SIGNATURE_INVALID',
  );
  const result = await bed.finish(bed.signedResponse(f));
  t.is(result.loginId, loginId);
});
