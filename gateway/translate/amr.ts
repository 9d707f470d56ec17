/**
 * `amr` (Authentication Methods References, RFC 8176) of a login: how the person authenticated upstream,
 * plus what the gateway's own step-up added. Never a protocol name (`saml`) or a private value.
 *
 * - Upstream: the SAML adapters accept only the eIDAS LoA URIs as AuthnContextClassRef, so the upstream
 *   authentication context is the asserted (clipped) LoA. Its methods come from the IdP's `amr` map in
 *   the configuration (`saml.idps[].amr`, LoA URI → RFC 8176 values) when the operator knows how that IdP
 *   authenticates, else from the eIDAS minimum requirements (Implementing Regulation (EU) 2015/1502
 *   §2.2.1): low — one factor, a password in practice (`pwd`); substantial — two factors of different
 *   categories (`mfa`); high — two factors, protected against duplication and tampering, i.e. a
 *   hardware-protected key (`mfa`, `hwk`).
 * - Step-up: a risk step-up the login satisfied (policy level ≥ 1: a forced re-authentication upstream, a
 *   higher LoA, or WebAuthn at the gateway) adds `rba` (risk-based authentication); WebAuthn's own values
 *   (`hwk` for a security key, `user` for user verification, `mfa`) are kept, filtered to RFC 8176 values.
 * - Values are deduplicated, upstream first; an unregistered value is never emitted.
 */
import type { LoaUri } from '../../adapters/contract.ts';

/** The IANA "Authentication Method Reference Values" registry: one list, in the contract (the IdPs' config names it). */
export { AMR_VALUES, type AmrValue } from '../../adapters/contract/vocabulary.ts';
import { AMR_VALUES, type AmrValue } from '../../adapters/contract/vocabulary.ts';

export function isAmrValue(value: string): value is AmrValue {
  return (AMR_VALUES as readonly string[]).includes(value);
}

/** eIDAS 2015/1502 §2.2.1 minimum: what each LoA guarantees about the methods. */
export const DEFAULT_AMR_BY_LOA: Readonly<Record<LoaUri, readonly AmrValue[]>> = Object.freeze({
  'http://eidas.europa.eu/LoA/low': ['pwd'],
  'http://eidas.europa.eu/LoA/substantial': ['mfa'],
  'http://eidas.europa.eu/LoA/high': ['mfa', 'hwk'],
});

export interface AmrInput {
  /** The LoA of the assertion the login was finished with (clipped to the IdP's maximum). */
  loa: LoaUri;
  /** The IdP's own map (`saml.idps[].amr`), when the operator gave one for this LoA. */
  idpMap?: Partial<Record<LoaUri, readonly AmrValue[]>>;
  /** The risk step-up level this login satisfied (0 or absent: none). */
  stepUpLevel?: number;
  /** Methods the gateway's own step-up used (WebAuthn); values outside RFC 8176 are dropped. */
  stepUpMethods?: readonly string[];
}

/**
 * @example
 * loginAmr({ loa: 'http://eidas.europa.eu/LoA/substantial' }) // ['mfa']
 * loginAmr({ loa: 'http://eidas.europa.eu/LoA/substantial', stepUpLevel: 3, stepUpMethods: ['hwk', 'mfa'] }) // ['mfa', 'hwk', 'rba']
 */
export function loginAmr(input: AmrInput): AmrValue[] {
  const upstream = input.idpMap?.[input.loa] ?? DEFAULT_AMR_BY_LOA[input.loa];
  if (upstream === undefined) throw new Error(`no amr for LoA ${input.loa}`);
  const stepUp = (input.stepUpMethods ?? []).filter(isAmrValue);
  const risk: AmrValue[] = (input.stepUpLevel ?? 0) >= 1 ? ['rba'] : [];
  return [...new Set([...upstream, ...stepUp, ...risk])];
}
