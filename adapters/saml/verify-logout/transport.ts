/**
 * Logout step 1, transport and size (SAML Bindings §3.4, §3.5).
 *
 * - HTTP-POST: one `SAMLRequest` (or `SAMLResponse`) form field, strict base64, at most 64 KiB decoded.
 * - HTTP-Redirect (GET): the same parameter, base64 of raw DEFLATE, inflated to at most 64 KiB, read from the
 *   raw query string (its signature covers the encoded bytes), in which no parameter may appear twice.
 * - `RelayState`, when present, at most 80 bytes; valid UTF-8.
 * Failures: `SAML_TRANSPORT_INVALID`, `SAML_TOO_LARGE`, `SAML_RELAYSTATE_INVALID`, `SAML_MALFORMED_XML`.
 */
import { inflateRawSync } from 'node:zlib';
import { samlError } from '../errors.ts';
import type { LogoutVerifyContext } from './context.ts';

export const MAX_LOGOUT_BYTES = 64 * 1024;
const MAX_RELAY_STATE_BYTES = 80;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function checkLogoutTransport(ctx: LogoutVerifyContext): void {
  const { method, params } = ctx.message;
  const param = ctx.expect === 'LogoutRequest' ? 'SAMLRequest' : 'SAMLResponse';
  const encoded = method === 'GET' ? fromRawQuery(ctx.message.rawQuery, param) : params[param];
  if (typeof encoded !== 'string' || encoded.length === 0)
    throw samlError('SAML_TRANSPORT_INVALID', { detail: `no ${param}` });
  if (encoded.length > Math.ceil(MAX_LOGOUT_BYTES / 3) * 4 * 1.1)
    throw samlError('SAML_TOO_LARGE', { detail: `${encoded.length} base64 chars` });
  const compact = encoded.replace(/[\r\n\t ]+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact))
    throw samlError('SAML_TRANSPORT_INVALID', { detail: `${param} is not base64` });
  const relayState = params['RelayState'];
  if (relayState !== undefined && Buffer.byteLength(relayState, 'utf8') > MAX_RELAY_STATE_BYTES)
    throw samlError('SAML_RELAYSTATE_INVALID', { detail: 'RelayState longer than 80 bytes' });
  let bytes: Buffer;
  if (method === 'POST') {
    ctx.binding = 'post';
    bytes = Buffer.from(compact, 'base64');
  } else if (method === 'GET') {
    ctx.binding = 'redirect';
    try {
      bytes = inflateRawSync(Buffer.from(compact, 'base64'), { maxOutputLength: MAX_LOGOUT_BYTES });
    } catch (cause) {
      throw samlError('SAML_TOO_LARGE', {
        detail: `${param} does not inflate within ${MAX_LOGOUT_BYTES} bytes`,
        cause,
      });
    }
  } else throw samlError('SAML_TRANSPORT_INVALID', { detail: `method ${method}` });
  if (bytes.length > MAX_LOGOUT_BYTES) throw samlError('SAML_TOO_LARGE', { detail: `${bytes.length} bytes` });
  try {
    ctx.xml = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw samlError('SAML_MALFORMED_XML', { detail: `${param} is not UTF-8`, cause });
  }
}

/** The raw, still URL-encoded value of each parameter of a query string; a repeated name is refused. */
export function rawQueryValues(rawQuery: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const pair of rawQuery.replace(/^\?/, '').split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const name = decodeURIComponent(at < 0 ? pair : pair.slice(0, at));
    if (values.has(name)) throw samlError('SAML_TRANSPORT_INVALID', { detail: `parameter ${name} repeated` });
    values.set(name, at < 0 ? '' : pair.slice(at + 1));
  }
  return values;
}

/** The decoded value of `param` from the raw query string (which must be given: its signature covers it). */
function fromRawQuery(rawQuery: string | undefined, param: string): string | undefined {
  if (rawQuery === undefined)
    throw samlError('SAML_TRANSPORT_INVALID', { detail: 'HTTP-Redirect without its query string' });
  try {
    const value = rawQueryValues(rawQuery).get(param);
    return value === undefined ? undefined : decodeURIComponent(value);
  } catch (error) {
    if (error instanceof URIError) throw samlError('SAML_TRANSPORT_INVALID', { detail: 'query is not URL-encoded' });
    throw error;
  }
}
