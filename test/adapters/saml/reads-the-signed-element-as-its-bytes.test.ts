/**
 * Attack test (review of r7-xml): the claims are read from the deep clone whose canonical form was digested
 * (`signed-element.ts`), not from a strict parse of those bytes. A signature-wrapping attacker may change
 * anything of the message that exclusive/inclusive canonicalisation does not write: comments (discarded
 * for a same-document reference), processing instructions (the library writes their data as text),
 * attributes whose name starts with `xmlns` (skipped), unused or relocated namespace declarations, CDATA
 * vs escaped text, character references, attribute order and quoting. Each such edit below keeps the
 * IdP's digest valid; the claims read from the clone must then be exactly those a strict parse of the
 * verified bytes gives (the old behaviour), or the message is refused. Never a third answer.
 *
 * Also: the fallback (d065b01) when the transforms end on a node the library re-parsed
 * (`exc-c14n, enveloped-signature` in that order): the claims still come from the signed bytes.
 */
import test from 'ava';
import { PIPELINE } from '../../../adapters/saml/verify/pipeline.ts';
import type { VerifyContext } from '../../../adapters/saml/verify/context.ts';
import { readAssertion } from '../../../adapters/saml/verify/read-assertion.ts';
import { DEFAULT_SIGNATURE_METHODS } from '../../../adapters/saml/xmldsig.ts';
import { parseStrictXml } from '../../../adapters/saml/xml/parse.ts';
import { SignedXml } from 'xml-crypto';
import { baselineFields, responseXml } from '../../helpers/saml/response-builder.ts';
import { createTestIdp, RSA_SHA256, SHA256, signElement } from '../../helpers/saml/test-idp.ts';

const UP_TO_THE_CLAIMS = new Set(['lexical', 'structure', 'issuer', 'signatures', 'decrypt', 'read-signed']);
const A = 'urn:oasis:names:tc:SAML:2.0:assertion';

const idp = await createTestIdp();
const fields = () =>
  baselineFields({
    issuer: idp.entityId,
    acsUrl: 'https://sp.test.example/acs',
    spEntityId: 'https://sp.test.example',
    inResponseTo: '_req',
  });
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const sign = (xml: string, id: string) =>
  signElement(xml, { id, privateKey: idp.privateKey, certificatePem: idp.certificatePem });
/** Signs like `signElement`, with the Reference's transforms given (the library appends inclusive c14n). */
function signWith(xml: string, id: string, transforms: string[]): string {
  const sig = new SignedXml({
    privateKey: idp.privateKey.export({ format: 'pem', type: 'pkcs8' }),
    publicCert: idp.certificatePem,
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  sig.addReference({ xpath: `//*[@ID='${id}']`, transforms, digestAlgorithm: SHA256 });
  sig.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `//*[@ID='${id}']/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return sig.getSignedXml();
}

function context(xml: string, requiredSignatures: 'assertion' | 'response'): VerifyContext {
  return {
    env: {
      profile: 'legacy',
      idp: {
        id: 'test-idp',
        signatureAlgorithms: DEFAULT_SIGNATURE_METHODS,
        requiredSignatures,
        encryptedAssertions: 'allowed',
      },
      metadata: { entityId: idp.entityId, sso: {}, signingCertificates: [idp.certificatePem] },
      sp: { entityId: 'https://sp.test.example' },
      now: new Date(),
    },
    message: {},
    xml,
    signed: { count: 0 },
  } as unknown as VerifyContext;
}

type Outcome = { claims: unknown; envelope: unknown } | { code: string };

async function run(
  xml: string,
  signed: 'assertion' | 'response',
): Promise<{ got: Outcome; fromBytes?: Outcome; fromClone?: boolean }> {
  const ctx = context(xml, signed);
  try {
    for (const [name, step] of PIPELINE) if (UP_TO_THE_CLAIMS.has(name)) await step(ctx);
  } catch (error) {
    return { got: { code: (error as { code?: string }).code ?? String(error) } };
  }
  // the old behaviour: a strict parse of the canonical bytes the library verified
  const bytes = ctx.signed[signed]!.xml;
  const root = parseStrictXml(bytes).documentElement!;
  const assertion = root.localName === 'Assertion' ? root : root.getElementsByTagNameNS(A, 'Assertion')[0]!;
  return {
    got: { claims: ctx.claims, envelope: ctx.envelope },
    fromBytes: { claims: readAssertion(assertion), envelope: ctx.envelope },
    fromClone: ctx.signed[signed]!.root !== undefined,
  };
}

/** Edits that canonicalisation does not see (the digest stays valid). */
const EDITS: [string, (xml: string, nameId: string) => string][] = [
  [
    'a processing instruction carries part of the NameID',
    (x, n) => x.replace(`>${n}<`, `>${n.slice(0, 4)}<?pi ${n.slice(4)}?><`),
  ],
  ['a processing instruction carries part of an AttributeValue', (x) => x.replace('>Lovelace<', '>Love<?pi lace?><')],
  [
    'a comment between the Conditions children',
    (x) => x.replace('<saml:AudienceRestriction>', '<!--x--><saml:AudienceRestriction>'),
  ],
  ['a CDATA section carries the NameID', (x, n) => x.replace(`>${n}<`, `><![CDATA[${n.slice(0, 4)}]]>${n.slice(4)}<`)],
  ['character references in the NameID', (x, n) => x.replace(`>${n}<`, `>&#${n.charCodeAt(0)};${n.slice(1)}<`)],
  [
    'an attribute named xmlnsFormat on the NameID (not written by c14n)',
    (x) => x.replace('<saml:NameID ', '<saml:NameID xmlnsFormat="urn:evil" '),
  ],
  [
    'an unused namespace declaration and a default namespace on the Assertion',
    (x) => x.replace('<saml:Assertion ', `<saml:Assertion xmlns:xs="urn:evil" xmlns="urn:evil" `),
  ],
  [
    'a default namespace the Assertion inherits, on the Response',
    (x) => x.replace('<samlp:Response ', `<samlp:Response xmlns="${A}" `),
  ],
  [
    'attribute order and quoting on the Assertion',
    (x) => x.replace(/<saml:Assertion ([^>]*?) ID="([^"]+)"/, "<saml:Assertion ID='$2' $1"),
  ],
];

for (const signed of ['assertion', 'response'] as const) {
  test(`${signed} signed, unedited: the claims are those of the signed bytes`, async (t) => {
    const f = fields();
    const xml = sign(responseXml(f), signed === 'assertion' ? f.assertionId : f.responseId);
    const { got, fromBytes, fromClone } = await run(xml, signed);
    t.true(fromClone, 'read from the kept clone');
    t.deepEqual(got, fromBytes);
    t.is((got as { claims: { nameId: { value: string } } }).claims.nameId.value, f.nameId);
  });
  for (const [name, edit] of EDITS) {
    test(`${signed} signed, ${name}: the claims are those of the signed bytes, or the message is refused`, async (t) => {
      const f = fields();
      const xml = edit(sign(responseXml(f), signed === 'assertion' ? f.assertionId : f.responseId), f.nameId);
      const { got, fromBytes, fromClone } = await run(xml, signed);
      if ('code' in got) {
        t.log(`refused: ${got.code}`);
        t.is(got.code, 'SAML_SCHEMA_INVALID', 'only a processing instruction in a text value is refused');
        return;
      }
      t.true(fromClone, 'read from the kept clone');
      t.deepEqual(got, fromBytes, 'the clone and the bytes must say the same');
      t.is((got as { claims: { nameId: { value: string } } }).claims.nameId.value, f.nameId);
    });
  }
}

test('transforms exc-c14n then enveloped-signature: the claims come from the signed bytes (strict parse fallback)', async (t) => {
  const f = fields();
  const { got, fromBytes, fromClone } = await run(
    signWith(responseXml(f), f.assertionId, [EXC_C14N, ENVELOPED]),
    'assertion',
  );
  if ('code' in got) {
    t.log(`refused: ${got.code}`);
    t.not(got.code, 'SAML_INTERNAL_ERROR');
    return;
  }
  t.false(fromClone, 'a node the library re-parsed is not kept: the bytes are parsed strictly');
  t.deepEqual(got, fromBytes);
});

// enveloped-signature alone: the library ends on inclusive c14n of the clone (ancestor namespaces written)
const INCLUSIVE_EDITS = EDITS.filter(([name]) => !/namespace/.test(name));
for (const signed of ['assertion', 'response'] as const) {
  for (const [name, edit] of [['unedited', (x: string) => x] as const, ...INCLUSIVE_EDITS]) {
    test(`inclusive c14n, ${signed} signed, ${name}: the claims are those of the signed bytes, or the message is refused`, async (t) => {
      const f = fields();
      const id = signed === 'assertion' ? f.assertionId : f.responseId;
      const xml = edit(signWith(responseXml(f), id, [ENVELOPED]), f.nameId);
      const { got, fromBytes, fromClone } = await run(xml, signed);
      if ('code' in got) {
        t.log(`refused: ${got.code}`);
        t.is(got.code, 'SAML_SCHEMA_INVALID', 'only a processing instruction in a text value is refused');
        return;
      }
      t.true(fromClone);
      t.deepEqual(got, fromBytes, 'the clone and the bytes must say the same');
      t.is((got as { claims: { nameId: { value: string } } }).claims.nameId.value, f.nameId);
    });
  }
}
