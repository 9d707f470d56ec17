/**
 * Step 1, transport and size (SAML-XML-06, SAML-RS-01, HTTP-04).
 *
 * - HTTP POST only.
 * - One `SAMLResponse` field, strict base64, at most 256 KiB decoded, valid UTF-8.
 * - `RelayState`, when present, at most 80 bytes.
 */
import { samlError } from '../errors.ts';
import type { VerifyContext } from './context.ts';

export const MAX_RESPONSE_BYTES = 256 * 1024;
const MAX_RELAY_STATE_BYTES = 80;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function checkTransport(ctx: VerifyContext): void {
  const { method, params } = ctx.message;
  if (method !== 'POST') throw samlError('SAML_TRANSPORT_INVALID', { detail: `method ${method}` });
  const encoded = params['SAMLResponse'];
  if (typeof encoded !== 'string' || encoded.length === 0)
    throw samlError('SAML_TRANSPORT_INVALID', { detail: 'no SAMLResponse' });
  if (encoded.length > Math.ceil(MAX_RESPONSE_BYTES / 3) * 4 * 1.1)
    throw samlError('SAML_TOO_LARGE', { detail: `${encoded.length} base64 chars` });
  const compact = encoded.replace(/[\r\n\t ]+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact))
    throw samlError('SAML_TRANSPORT_INVALID', { detail: 'SAMLResponse is not base64' });
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.length > MAX_RESPONSE_BYTES) throw samlError('SAML_TOO_LARGE', { detail: `${bytes.length} bytes` });
  const relayState = params['RelayState'];
  if (relayState !== undefined && Buffer.byteLength(relayState, 'utf8') > MAX_RELAY_STATE_BYTES) {
    throw samlError('SAML_RELAYSTATE_INVALID', { detail: 'RelayState longer than 80 bytes' });
  }
  try {
    ctx.xml = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw samlError('SAML_MALFORMED_XML', { detail: 'SAMLResponse is not UTF-8', cause });
  }
}
