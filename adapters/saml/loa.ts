/**
 * eIDAS levels of assurance as an ordered table. An unknown URI is refused, never guessed; a level is
 * only ever clipped down to an IdP's maximum, never raised (security-conformance.md §0.9).
 */
import type { LoaUri } from '../contract.ts';

/** Ordered low → high. */
export const LOA_ORDER: readonly LoaUri[] = [
  'http://eidas.europa.eu/LoA/low',
  'http://eidas.europa.eu/LoA/substantial',
  'http://eidas.europa.eu/LoA/high',
];

/** True for the three eIDAS LoA URIs, exactly (no case or whitespace folding). */
export function isLoaUri(value: unknown): value is LoaUri {
  return typeof value === 'string' && (LOA_ORDER as readonly string[]).includes(value);
}

/** Rank of a level (0 = low). */
export function loaRank(loa: LoaUri): number {
  return LOA_ORDER.indexOf(loa);
}

/**
 * The lower of the asserted level and the IdP's maximum.
 *
 * @example
 * clipLoa('http://eidas.europa.eu/LoA/high', 'http://eidas.europa.eu/LoA/substantial'); // substantial
 */
export function clipLoa(asserted: LoaUri, max: LoaUri): LoaUri {
  return loaRank(asserted) <= loaRank(max) ? asserted : max;
}
