/**
 * Step 6, decryption of an EncryptedAssertion (SAML-ENC-01/02/04/05, EIDAS-CRY-02).
 *
 * - Without an EncryptedAssertion this step does nothing.
 * - When the Response is signed, the EncryptedAssertion is taken from the signed bytes only (what the
 *   Response signature covers is what we decrypt; read from the element they were written from,
 *   `signed-element.ts`); otherwise from the received message, and then the
 *   decrypted Assertion must carry its own valid signature.
 * - Each decryption is an HSM operation, so before it: a signed Response seen before is `SAML_REPLAY`
 *   (`rejectReplayedResponse`), and the Response must name a pending request of this browser and IdP not yet
 *   decrypted for (`admitDecryption`): anyone can encrypt to our public key or keep a signed Response.
 * - Decryption itself is `xmlenc/decrypt-assertion.ts` (algorithm allow-list first, uniform errors).
 * - The decrypted Assertion is parsed strictly as its own document and passes the same structural
 *   rules as a plain one: root saml:Assertion, no ID repeated (nor equal to the Response's), Signature
 *   only as its child and without ds:Object, no comment in identity elements.
 * - Its own Signature, when present, is verified with the IdP's metadata keys and algorithm allow-list.
 * - Then the per-IdP signature policy is applied to what the Assertion carries (`SAML_ASSERTION_NOT_SIGNED`,
 *   `SAML_SIGNATURE_MISSING`): a forged Assertion encrypted with our public key is never accepted.
 */
import type { Element } from '@xmldom/xmldom';
import { samlError } from '../errors.ts';
import { allElements, attr, childrenNamed, isElement, optionalChild } from '../xml/dom.ts';
import { NS } from '../xml/namespaces.ts';
import { parseStrictXml } from '../xml/parse.ts';
import { decryptAssertion } from '../xmlenc/decrypt-assertion.ts';
import { need, type SignedContent, type VerifyContext } from './context.ts';
import { admitDecryption } from './in-response-to.ts';
import { rejectReplayedResponse } from './replay.ts';
import { verifyOne } from './signatures.ts';
import { checkSignaturePlacement, rejectCommentsInIdentity, rejectDuplicateIds } from './structure.ts';

export async function decryptIfEncrypted(ctx: VerifyContext): Promise<void> {
  if (!ctx.encryptedAssertion) return;
  const response = need(ctx.response, 'response');
  // one Redis write: the signed Response's mark, the pending request's read, this browser's once-only mark
  const replay = rejectReplayedResponse(ctx);
  replay.catch(() => undefined); // read by admitDecryption, first
  await admitDecryption(ctx, replay);
  const encrypted = ctx.signed.response
    ? encryptedInSignedResponse(ctx.signed.response, attr(response, 'ID'))
    : ctx.encryptedAssertion;
  const xml = await decryptAssertion(encrypted, ctx.env.decrypter, ctx.env.sp.entityId);

  const decryptedDoc = parseStrictXml(xml);
  const assertion = decryptedDoc.documentElement!;
  if (!isElement(assertion, NS.assertion, 'Assertion'))
    throw samlError('SAML_SCHEMA_INVALID', { detail: 'decrypted content is not a saml:Assertion' });
  rejectDuplicateIds(allElements(assertion), new Set([attr(response, 'ID') ?? '']));
  checkSignaturePlacement(assertion, assertion);
  rejectCommentsInIdentity(assertion);

  const signature = optionalChild(assertion, NS.dsig, 'Signature');
  if (signature) {
    ctx.signed.assertion = verifyOne(
      decryptedDoc,
      signature,
      assertion,
      ctx.env.metadata.signingCertificates,
      ctx.env.idp.signatureAlgorithms,
      ctx.env.metadata.weakSigningCertificates ?? [],
    );
    ctx.signed.count += 1;
  }
  const policy = ctx.env.idp.requiredSignatures;
  if (!signature && !ctx.signed.response)
    throw samlError('SAML_SIGNATURE_MISSING', { detail: 'neither the Response nor the decrypted Assertion is signed' });
  if ((policy === 'assertion' || policy === 'both') && !signature)
    throw samlError('SAML_ASSERTION_NOT_SIGNED', { detail: `policy ${policy}, encrypted` });
  ctx.assertion = assertion;
  ctx.decrypted = true;
}

function encryptedInSignedResponse(signed: SignedContent, responseId: string | undefined): Element {
  const root = signed.root ?? parseStrictXml(signed.xml).documentElement!;
  if (!isElement(root, NS.protocol, 'Response') || !responseId || attr(root, 'ID') !== responseId) {
    throw samlError('SAML_SIGNATURE_WRAPPING', { detail: 'signed bytes are not the received Response' });
  }
  const found = childrenNamed(root, NS.assertion, 'EncryptedAssertion');
  if (found.length !== 1)
    throw samlError('SAML_SIGNATURE_WRAPPING', { detail: 'signed Response does not hold the EncryptedAssertion' });
  return found[0]!;
}
