/**
 * The closed vocabularies an adapter's configuration and answers may name, shared with the gateway: the eIDAS
 * levels of assurance (URIs, lowest first), the internal attribute names, and the IANA "Authentication Method Reference Values" (RFC 8176 §2 and later
 * registrations). A value outside them is refused, never defaulted.
 */
import type { InternalAttribute, LoaUri } from '../contract.ts';

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

/** Every internal attribute name, at run time (the `InternalAttribute` union, checked both ways below). */
export const INTERNAL_ATTRIBUTES = [
  'given_name',
  'family_name',
  'birthdate',
  'gender',
  'birthplace',
  'birthcountry',
  'preferred_username',
  'email',
  'person_identifier',
  'birth_name',
  'place_of_birth',
  'current_address',
  'nationality',
  'country_of_birth',
  'legal_person_identifier',
  'legal_name',
  'legal_address',
  'vat_registration_number',
  'tax_reference',
  'lei',
  'eori',
] as const satisfies readonly InternalAttribute[];
type Unlisted = Exclude<InternalAttribute, (typeof INTERNAL_ATTRIBUTES)[number]>;
/** A name added to `InternalAttribute` but not to the list fails to compile here. */
export const EVERY_ATTRIBUTE_LISTED: [Unlisted] extends [never] ? true : never = true;

export function isInternalAttribute(name: string): name is InternalAttribute {
  return (INTERNAL_ATTRIBUTES as readonly string[]).includes(name);
}

/** The rank of a level (0 = low); -1 for anything else. */
export function loaRank(loa: string): number {
  return (LOA_URIS as readonly string[]).indexOf(loa);
}
