/**
 * Issue #14: the SAML Response is parsed once per verification. The steps from `lexical` to `read-signed`
 * used to parse the whole message three times (the strict parse, xml-crypto's own parse inside
 * `checkSignature`, the signed bytes re-read for the claims); now:
 *
 * - the signature check dereferences its references in the strict parse (`check-on-document.ts`): no
 *   parser sees the whole message a second time;
 * - the claims are read from the element whose canonical form was digested (`reference-lookup.ts` keeps
 *   it), not from a parse of those bytes;
 * - and what is read is what the library verified: the claims equal those read from a strict parse of the
 *   canonical bytes `getSignedReferences()` gives, for an Assertion, a Response and a doubly signed message.
 *
 * The parsers are counted by wrapping `parseFromString` on both copies of @xmldom/xmldom (ours, 0.9, and
 * xml-crypto's nested 0.8). Only xml-crypto's parses of the canonical SignedInfo (a few hundred bytes,
 * inside the library) are left.
 */
import { createRequire } from 'node:module';
import test from 'ava';
import { DOMParser as OurParser } from '@xmldom/xmldom';
import { PIPELINE } from '../../../adapters/saml/verify/pipeline.ts';
import type { VerifyContext } from '../../../adapters/saml/verify/context.ts';
import { readAssertion } from '../../../adapters/saml/verify/read-assertion.ts';
import { DEFAULT_SIGNATURE_METHODS } from '../../../adapters/saml/xmldsig.ts';
import { parseStrictXml } from '../../../adapters/saml/xml/parse.ts';
import { baselineFields, responseXml } from '../../helpers/saml/response-builder.ts';
import { createTestIdp, signElement } from '../../helpers/saml/test-idp.ts';

const fromXmlCrypto = createRequire(createRequire(import.meta.url).resolve('xml-crypto'));
const { DOMParser: LibraryParser } = fromXmlCrypto('@xmldom/xmldom') as { DOMParser: typeof OurParser };

const UP_TO_THE_CLAIMS = new Set(['lexical', 'structure', 'issuer', 'signatures', 'decrypt', 'read-signed']);

/** Every string given to either parser while `run` runs. */
async function parsed(run: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const restore = [OurParser, LibraryParser].map((Parser) => {
    const original = Parser.prototype.parseFromString;
    Parser.prototype.parseFromString = function (this: OurParser, source: string, type: never) {
      seen.push(source);
      return original.call(this, source, type);
    } as typeof original;
    return () => {
      Parser.prototype.parseFromString = original;
    };
  });
  try {
    await run();
  } finally {
    for (const undo of restore) undo();
  }
  return seen;
}

async function bed() {
  const idp = await createTestIdp();
  const f = baselineFields({
    issuer: idp.entityId,
    acsUrl: 'https://sp.test.example/acs',
    spEntityId: 'https://sp.test.example',
    inResponseTo: '_req',
  });
  const sign = (xml: string, id: string) =>
    signElement(xml, { id, privateKey: idp.privateKey, certificatePem: idp.certificatePem });
  const context = (xml: string, requiredSignatures: 'assertion' | 'response' | 'both'): VerifyContext =>
    ({
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
    }) as unknown as VerifyContext;
  return { f, sign, context };
}

async function upToTheClaims(ctx: VerifyContext): Promise<void> {
  for (const [name, step] of PIPELINE) if (UP_TO_THE_CLAIMS.has(name)) await step(ctx);
}

for (const signed of ['assertion', 'response', 'both'] as const) {
  test(`a Response whose ${signed === 'both' ? 'Response and Assertion are' : `${signed} is`} signed is parsed once, and the claims are the signed bytes'`, async (t) => {
    const { f, sign, context } = await bed();
    let xml = responseXml(f);
    if (signed !== 'response') xml = sign(xml, f.assertionId);
    if (signed !== 'assertion') xml = sign(xml, f.responseId);
    const ctx = context(xml, signed);
    const sources = await parsed(() => upToTheClaims(ctx));

    t.is(sources.filter((s) => s === xml).length, 1, 'the whole message, once (the strict parse)');
    t.deepEqual(
      sources.filter((s) => s !== xml && !s.includes('SignedInfo')),
      [],
      'nothing else but the canonical SignedInfo inside xml-crypto',
    );
    t.true(
      sources.every((s) => s === xml || s.length < 2000),
      'the SignedInfo parses are small',
    );

    // the claims are what the canonical bytes the library verified say
    const bytes = (ctx.signed.assertion ?? ctx.signed.response)!.xml;
    const fromBytes = parseStrictXml(bytes).documentElement!;
    const assertion =
      fromBytes.localName === 'Assertion'
        ? fromBytes
        : fromBytes.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Assertion')[0]!;
    t.deepEqual(ctx.claims, readAssertion(assertion));
    t.is(ctx.claims?.nameId.value, f.nameId);
    t.is(ctx.envelope?.signed, signed !== 'assertion');
  });
}
