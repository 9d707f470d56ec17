/**
 * The CKA_LABEL naming of our keys on the token: `gw:<purpose>:<alg>:<shortid>`, where `shortid` is the
 * hex of the key pair's CKA_ID. The label is how the token itself records what a key is for, so that a
 * token can be listed without any other database.
 */
import { isAlgorithmName, type AlgorithmName } from './algorithms.ts';
import { HsmError } from './errors.ts';
import type { KeyPurpose } from './signer.ts';

/** Every key purpose, for parsing labels and validating configuration. */
export const KEY_PURPOSES = Object.freeze([
  'id_token',
  'access_token',
  'saml',
  'saml_decryption',
  'audit',
  'client_auth',
  'risk_assessment',
] as const satisfies readonly KeyPurpose[]);

/** Prefix of every label of ours. */
export const LABEL_PREFIX = 'gw:';

export interface ParsedLabel {
  purpose: KeyPurpose;
  alg: AlgorithmName;
  shortId: string;
}

/** True when `value` is a key purpose. */
export function isKeyPurpose(value: string): value is KeyPurpose {
  return (KEY_PURPOSES as readonly string[]).includes(value);
}

/** The label of a key. @example `keyLabel('saml', 'RS256', '9f3a01c2')` → `gw:saml:RS256:9f3a01c2` */
export function keyLabel(purpose: KeyPurpose, alg: AlgorithmName, shortId: string): string {
  return `${LABEL_PREFIX}${purpose}:${alg}:${shortId}`;
}

/**
 * Parses a label made by {@link keyLabel}.
 *
 * @throws HsmError `HSM_KEY_MISMATCH` for a malformed label or unknown purpose; `HSM_ALG_UNKNOWN` for an
 * algorithm outside the registry.
 */
export function parseKeyLabel(label: string): ParsedLabel {
  const parts = label.split(':');
  if (parts.length !== 4 || `${parts[0]}:` !== LABEL_PREFIX || !/^[0-9a-f]{8,64}$/.test(parts[3])) {
    throw new HsmError('HSM_KEY_MISMATCH', 'malformed key label on the token', { detail: `label=${label}` });
  }
  const [, purpose, alg, shortId] = parts;
  if (!isKeyPurpose(purpose))
    throw new HsmError('HSM_KEY_MISMATCH', 'unknown key purpose in a token label', { detail: `label=${label}` });
  if (!isAlgorithmName(alg))
    throw new HsmError('HSM_ALG_UNKNOWN', 'unknown algorithm in a token label', { detail: `label=${label}` });
  return { purpose, alg, shortId };
}
