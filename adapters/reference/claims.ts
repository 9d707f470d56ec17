/**
 * What a reference assertion says, read from its verified JWS payload only:
 *
 * - `iss`, `aud`, `sub`, `jti`, `nonce`, `loa`: non-empty strings (`aud` one string, not a list);
 * - `iat`, `exp`, `auth_time`: integers (seconds since the epoch); `nbf` optional, an integer;
 * - `attributes`: an object of internal attribute names, each a non-empty list of strings; an unknown name is
 *   refused (the IdP speaks the contract's vocabulary or is not understood);
 * - nothing else is read. Any shape problem is `REF_ASSERTION_INVALID`.
 */
import { AdapterError, type InternalAttribute } from '../contract.ts';
import { isInternalAttribute } from '../contract/vocabulary.ts';

export interface ReferenceClaims {
  iss: string;
  aud: string;
  sub: string;
  jti: string;
  nonce: string;
  loa: string;
  iat: number;
  exp: number;
  nbf?: number;
  auth_time: number;
  attributes: Partial<Record<InternalAttribute, string[]>>;
}

function invalid(detail: string): AdapterError {
  return new AdapterError('REF_ASSERTION_INVALID', 'The identity provider’s answer was refused.', { detail });
}

const STRINGS = ['iss', 'aud', 'sub', 'jti', 'nonce', 'loa'] as const;
const TIMES = ['iat', 'exp', 'auth_time'] as const;

/**
 * @example
 * const claims = readClaims(new TextDecoder().decode(verified.payload));
 */
export function readClaims(payload: string): ReferenceClaims {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    throw invalid('payload is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('payload is not an object');
  const claims = raw as Record<string, unknown>;
  for (const name of STRINGS) {
    const value = claims[name];
    if (typeof value !== 'string' || value === '') throw invalid(`${name} must be a non-empty string`);
  }
  for (const name of [...TIMES, ...(claims.nbf === undefined ? [] : ['nbf' as const])]) {
    if (!Number.isSafeInteger(claims[name])) throw invalid(`${name} must be an integer`);
  }
  const attributes = claims.attributes ?? {};
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes))
    throw invalid('attributes must be an object');
  const read: Partial<Record<InternalAttribute, string[]>> = {};
  for (const [name, values] of Object.entries(attributes)) {
    if (!isInternalAttribute(name)) throw invalid(`unknown attribute ${name}`);
    if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string'))
      throw invalid(`attribute ${name} must be a non-empty list of strings`);
    read[name] = values as string[];
  }
  const [str, time] = [(n: string) => claims[n] as string, (n: string) => claims[n] as number];
  return {
    iss: str('iss'),
    aud: str('aud'),
    sub: str('sub'),
    jti: str('jti'),
    nonce: str('nonce'),
    loa: str('loa'),
    iat: time('iat'),
    exp: time('exp'),
    ...(claims.nbf === undefined ? {} : { nbf: time('nbf') }),
    auth_time: time('auth_time'),
    attributes: read,
  };
}
