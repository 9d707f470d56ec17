/**
 * Logout step 4, signature: keys from the IdP's metadata only, the IdP's algorithm allow-list (the same as
 * for its login responses: no SHA-1, no HMAC, eIDAS nodes PSS/ECDSA only).
 *
 * - HTTP-POST: one enveloped ds:Signature on the root (`SAML_LOGOUT_SIGNATURE_MISSING`), its shape checked
 *   as for responses (`SAML_ALG_NOT_ALLOWED`, `SAML_TRANSFORM_NOT_ALLOWED`, `SAML_SIGNATURE_WRAPPING`),
 *   verified with a metadata key (`SAML_LOGOUT_SIGNATURE_INVALID`; a key listed but too weak:
 *   `SAML_KEY_TOO_WEAK`); what is read next comes from the canonical bytes xml-crypto verified.
 * - HTTP-Redirect: `SigAlg` and `Signature` parameters required (`SAML_LOGOUT_SIGNATURE_MISSING`), SigAlg in
 *   the allow-list (`SAML_ALG_NOT_ALLOWED`), the signature over `SAMLRequest|SAMLResponse=…[&RelayState=…]&SigAlg=…`
 *   exactly as received (Bindings §3.4.4.1) verified with a metadata key (`SAML_LOGOUT_SIGNATURE_INVALID`).
 *   The whole message is then what was signed.
 */
import { createPublicKey, verify } from 'node:crypto';
import { AdapterError } from '../../contract.ts';
import { samlError } from '../errors.ts';
import { attr, isElement, optionalChild } from '../xml/dom.ts';
import { NS } from '../xml/namespaces.ts';
import { parseStrictXml } from '../xml/parse.ts';
import { allowedSignatureMethod } from '../xmldsig.ts';
import { need } from '../verify/context.ts';
import { verifyOne } from '../verify/signatures.ts';
import type { LogoutVerifyContext } from './context.ts';
import { rawQueryValues } from './transport.ts';

const UNVERIFIED: ReadonlySet<string> = new Set(['SAML_SIGNATURE_INVALID', 'SAML_SIGNATURE_UNTRUSTED_KEY']);

export function verifyLogoutSignature(ctx: LogoutVerifyContext): void {
  if (need(ctx.binding, 'binding') === 'post') verifyEnveloped(ctx);
  else verifyQueryString(ctx);
}

function verifyEnveloped(ctx: LogoutVerifyContext): void {
  const root = need(ctx.root, 'root');
  const signature = optionalChild(root, NS.dsig, 'Signature');
  if (!signature) throw samlError('SAML_LOGOUT_SIGNATURE_MISSING', { detail: `${ctx.expect} is not signed` });
  const { metadata, idp } = ctx.env;
  let signedXml: string;
  try {
    ({ xml: signedXml } = verifyOne(
      root.ownerDocument!,
      signature,
      root,
      metadata.signingCertificates,
      idp.signatureAlgorithms,
      metadata.weakSigningCertificates ?? [],
    ));
  } catch (error) {
    if (error instanceof AdapterError && UNVERIFIED.has(error.code))
      throw samlError('SAML_LOGOUT_SIGNATURE_INVALID', { detail: error.detail, cause: error });
    throw error;
  }
  const signedRoot = parseStrictXml(signedXml).documentElement!;
  if (!isElement(signedRoot, NS.protocol, ctx.expect) || attr(signedRoot, 'ID') !== attr(root, 'ID'))
    throw samlError('SAML_SIGNATURE_WRAPPING', { detail: `signed bytes are not the received ${ctx.expect}` });
  ctx.signedRoot = signedRoot;
}

function verifyQueryString(ctx: LogoutVerifyContext): void {
  const raw = rawQueryValues(need(ctx.message.rawQuery, 'rawQuery'));
  const param = ctx.expect === 'LogoutRequest' ? 'SAMLRequest' : 'SAMLResponse';
  const sigAlgRaw = raw.get('SigAlg');
  const signatureRaw = raw.get('Signature');
  if (sigAlgRaw === undefined || signatureRaw === undefined)
    throw samlError('SAML_LOGOUT_SIGNATURE_MISSING', { detail: 'HTTP-Redirect without SigAlg and Signature' });
  const sigAlg = decodedParam(sigAlgRaw, 'SigAlg');
  const row = allowedSignatureMethod(sigAlg, ctx.env.idp.signatureAlgorithms);
  if (!row) throw samlError('SAML_ALG_NOT_ALLOWED', { detail: `SigAlg ${sigAlg}` });
  const relay = raw.get('RelayState');
  const octets = Buffer.from(
    `${param}=${raw.get(param) ?? ''}${relay === undefined ? '' : `&RelayState=${relay}`}&SigAlg=${sigAlgRaw}`,
    'utf8',
  );
  const signatureValue = Buffer.from(decodedParam(signatureRaw, 'Signature'), 'base64');
  const verified = ctx.env.metadata.signingCertificates.some((pem) => {
    try {
      return verify(row.hash, octets, { key: createPublicKey(pem), ...row.nodeVerify }, signatureValue);
    } catch {
      return false;
    }
  });
  if (!verified) throw samlError('SAML_LOGOUT_SIGNATURE_INVALID', { detail: 'query-string signature does not verify' });
  ctx.signedRoot = need(ctx.root, 'root');
}

/**
 * A query parameter, percent-decoded; malformed encoding (`%C0`, a lone `%`) is `SAML_TRANSPORT_INVALID`, not
 * an exception the pipeline would call `SAML_INTERNAL_ERROR` (issue #15, found by the logout fuzzer).
 */
function decodedParam(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch (cause) {
    throw samlError('SAML_TRANSPORT_INVALID', { detail: `${name} is not URL-encoded`, cause });
  }
}
