/**
 * The closed vocabularies an adapter's configuration may name, shared with the gateway: the eIDAS levels of
 * assurance (URIs) and the IANA "Authentication Method Reference Values" (RFC 8176 §2 and later
 * registrations). A value outside them is refused, never defaulted.
 */
import type { LoaUri } from '../contract.ts';

export const LOA_URIS = [
  'http://eidas.europa.eu/LoA/low',
  'http://eidas.europa.eu/LoA/substantial',
  'http://eidas.europa.eu/LoA/high',
] as const satisfies readonly LoaUri[];

export const AMR_VALUES = [
  'face',
  'fpt',
  'geo',
  'hwk',
  'iris',
  'kba',
  'mca',
  'mfa',
  'otp',
  'pin',
  'pop',
  'pwd',
  'rba',
  'retina',
  'sc',
  'sms',
  'swk',
  'tel',
  'user',
  'vbm',
  'wia',
] as const;
export type AmrValue = (typeof AMR_VALUES)[number];
