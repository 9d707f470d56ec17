/**
 * The reference adapter's verification, as one table read top to bottom; each step one check, each failure
 * one code. The order follows the SAML pipeline's reasons: nothing is read before the signature verifies, the
 * replay check runs before the pending login is taken (a replayed answer is `REF_REPLAY`, never attributed to
 * the victim's login), and every error after the state step carries the login id.
 *
 * | # | step        | enforces | code |
 * |---|-------------|----------|------|
 * | 1 | transport   | POST; exactly `assertion` (compact JWS, ≤ 16 KiB) and `state` (≤ 80 URL-safe characters) | `REF_TRANSPORT_INVALID` |
 * | 2 | header      | `alg` = the IdP's registered algorithm (checked before any key operation); `typ` = `ref-assertion+jwt` | `REF_ALG_NOT_ALLOWED`, `REF_ASSERTION_INVALID` |
 * | 3 | signature   | verifies with the IdP's configured key, that algorithm only | `REF_SIGNATURE_INVALID` |
 * | 4 | claims      | the payload's shape (`claims.ts`) | `REF_ASSERTION_INVALID` |
 * | 5 | issuer      | `iss` = the IdP's issuer | `REF_ISSUER_INVALID` |
 * | 6 | audience    | `aud` = our audience | `REF_AUDIENCE_INVALID` |
 * | 7 | time        | `iat`, `nbf`, `auth_time` not in the future (skew); `exp` not passed (skew); lifetime ≤ 10 min | `REF_NOT_YET_VALID`, `REF_EXPIRED`, `REF_ASSERTION_INVALID` |
 * | 8 | replay      | `jti` of this issuer seen once, remembered until `exp` + skew | `REF_REPLAY` |
 * | 9 | state       | the pending login of `state`, taken once; same IdP; same browser | `REF_STATE_UNKNOWN`, `REF_STATE_SESSION_MISMATCH` |
 * | 10 | nonce      | `nonce` = the one sent with that login | `REF_NONCE_MISMATCH` |
 * | 11 | loa        | a known LoA, clipped to `maxLoa`, ≥ the level the login asked for | `REF_LOA_UNKNOWN`, `REF_LOA_INSUFFICIENT` |
 * | 12 | freshness  | `auth_time` within the RP's `max_age` and the IdP's maximum; after the request when it forced authentication | `REF_AUTHN_TOO_OLD` |
 */
import { compactVerify, decodeProtectedHeader, type CryptoKey, type KeyObject } from 'jose';
import {
  AdapterError,
  fromTheSameBrowser,
  type AdapterStateStore,
  type InboundMessage,
  type LoaUri,
} from '../contract.ts';
import type { AdapterErrorCode } from '../errors/registry.ts';
import { LOA_URIS, loaRank } from '../contract/vocabulary.ts';
import { readClaims, type ReferenceClaims } from './claims.ts';
import type { ReferenceIdpEntry } from './config.ts';
import { takePending, type PendingLogin } from './pending.ts';

const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const STATE = /^[A-Za-z0-9_-]{1,80}$/;
const MAX_ASSERTION = 16 * 1024;
const MAX_LIFETIME_SECONDS = 600;
export const ASSERTION_TYPE = 'ref-assertion+jwt';

export interface VerifyInput {
  idp: ReferenceIdpEntry;
  key: CryptoKey | KeyObject;
  audience: string;
  state: AdapterStateStore;
  now: Date;
  message: InboundMessage;
}

export interface Verified {
  claims: ReferenceClaims;
  pending: PendingLogin;
  loa: LoaUri;
}

function fail(code: AdapterErrorCode, detail: string, loginId?: string): never {
  throw new AdapterError(code, 'The identity provider’s answer was refused.', {
    detail,
    ...(loginId === undefined ? {} : { loginId }),
  });
}

/**
 * @example
 * const { claims, pending, loa } = await verifyAnswer({ idp, key, audience, state, now: new Date(), message });
 */
export async function verifyAnswer(input: VerifyInput): Promise<Verified> {
  const { idp, message } = input;
  const skew = idp.clockSkewSeconds;
  const now = Math.floor(input.now.getTime() / 1000);
  // 1 transport
  const { assertion, state, ...others } = message.params;
  if (message.method !== 'POST' || Object.keys(others).length > 0) fail('REF_TRANSPORT_INVALID', 'fields or method');
  if (!assertion || assertion.length > MAX_ASSERTION || !JWS.test(assertion))
    fail('REF_TRANSPORT_INVALID', 'assertion');
  if (!state || !STATE.test(state)) fail('REF_TRANSPORT_INVALID', 'state');
  // 2 header, before any key operation
  let header;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    fail('REF_ASSERTION_INVALID', 'protected header');
  }
  if (header.alg !== idp.algorithm) fail('REF_ALG_NOT_ALLOWED', String(header.alg));
  if (header.typ !== ASSERTION_TYPE) fail('REF_ASSERTION_INVALID', `typ ${String(header.typ)}`);
  // 3 signature
  let payload: Uint8Array;
  try {
    payload = (await compactVerify(assertion, input.key, { algorithms: [idp.algorithm] })).payload;
  } catch (error) {
    fail('REF_SIGNATURE_INVALID', (error as Error).name);
  }
  // 4 claims: read only from the verified payload
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    fail('REF_ASSERTION_INVALID', 'payload is not UTF-8');
  }
  const claims = readClaims(text);
  // 5, 6
  if (claims.iss !== idp.issuer) fail('REF_ISSUER_INVALID', claims.iss);
  if (claims.aud !== input.audience) fail('REF_AUDIENCE_INVALID', claims.aud);
  // 7 time
  for (const [name, at] of [
    ['iat', claims.iat],
    ['nbf', claims.nbf],
    ['auth_time', claims.auth_time],
  ] as const) {
    if (at !== undefined && at > now + skew) fail('REF_NOT_YET_VALID', name);
  }
  if (now > claims.exp + skew) fail('REF_EXPIRED', `exp ${claims.exp}`);
  if (claims.exp - claims.iat > MAX_LIFETIME_SECONDS) fail('REF_ASSERTION_INVALID', 'lifetime');
  // 8 replay, before the pending login is taken
  const ttl = Math.max(1, claims.exp + skew - now);
  if (!(await input.state.putIfAbsent(`ref:jti:${claims.iss}:${claims.jti}`, '1', ttl))) fail('REF_REPLAY', claims.jti);
  // 9 state
  const pending = await takePending(input.state, state);
  if (!pending || pending.idp !== idp.id) fail('REF_STATE_UNKNOWN', 'no pending login');
  if (!fromTheSameBrowser(pending.browserBinding, message)) fail('REF_STATE_SESSION_MISMATCH', 'another browser');
  const loginId = pending.loginId;
  // 10 nonce
  if (claims.nonce !== pending.nonce) fail('REF_NONCE_MISMATCH', 'nonce', loginId);
  // 11 loa: never raised, clipped to what the IdP may assert
  if (loaRank(claims.loa) < 0) fail('REF_LOA_UNKNOWN', claims.loa, loginId);
  const loa = LOA_URIS[Math.min(loaRank(claims.loa), loaRank(idp.maxLoa))]!;
  if (loaRank(loa) < loaRank(pending.minimumLoa)) fail('REF_LOA_INSUFFICIENT', loa, loginId);
  // 12 freshness
  const maxAge = Math.min(pending.maxAuthenticationAgeSeconds ?? Infinity, idp.maxAuthenticationAgeSeconds);
  if (now - claims.auth_time > maxAge + skew) fail('REF_AUTHN_TOO_OLD', 'auth_time', loginId);
  if (pending.forceAuthn && claims.auth_time < pending.issuedAt - skew)
    fail('REF_AUTHN_TOO_OLD', 'before the request', loginId);
  return { claims, pending, loa };
}
