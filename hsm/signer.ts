/**
 * The protocol-neutral signing seam. Everything that signs (oidc-provider, SAML, audit) goes through a
 * `Signer`; nothing outside `hsm/` touches PKCS#11.
 *
 * - A `Signer` holds a reference to a key inside the token, never key bytes.
 * - `sign()` returns the encoding both JOSE and XML-DSig use (ECDSA: raw r‖s; RSA: the PKCS#1/PSS block;
 *   EdDSA: the 64-byte signature).
 */
import type { KeyObject } from 'node:crypto';
import type { AlgorithmName } from './algorithms.ts';

/** What a key is for. Each purpose has its own keys and policy. */
export type KeyPurpose =
  'id_token' | 'access_token' | 'saml' | 'saml_decryption' | 'audit' | 'client_auth' | 'risk_assessment';

/** Lifecycle state of a key (issue #3 persists this; issue #2 uses `active` only). */
export type KeyState = 'pending' | 'next' | 'active' | 'retired' | 'destroyed';

export interface Signer {
  /** RFC 7638 JWK thumbprint of the public key. */
  readonly kid: string;
  /** Registry name, e.g. `ES256`, `RS256`, `EdDSA`, `PS256`, `ES384` (or the experimental `ML-DSA-65`). */
  readonly alg: AlgorithmName;
  readonly purpose: KeyPurpose;
  /** Public JWK (kty, crv/x/y or n/e, kid, alg, use). Never private members. */
  readonly publicJwk: Readonly<JsonWebKeyPublic>;
  /** Node public KeyObject, for local verification. */
  publicKey(): KeyObject;
  /** Signs `data` inside the token (hashing in process where the mechanism needs a digest). */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export interface JsonWebKeyPublic {
  /** `AKP` for ML-DSA (RFC 9964): the public key is `pub`. */
  kty: 'RSA' | 'EC' | 'OKP' | 'AKP';
  kid: string;
  alg: string;
  use: 'sig' | 'enc';
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  pub?: string;
}

/** Resolves signers by purpose. The source of truth for which keys exist and which one signs. */
export interface KeyStore {
  /** The active signer for a purpose; with `alg`, the active one of that algorithm. Throws if none. */
  activeSigner(purpose: KeyPurpose, alg?: AlgorithmName): Signer;
  /** All active signers of a purpose, in policy order (the default algorithm first). */
  activeSigners(purpose: KeyPurpose): Signer[];
  /** Public keys to publish for a purpose (active, next, retired), for `/jwks` and SAML metadata. */
  publishable(purpose: KeyPurpose): JsonWebKeyPublic[];
}
