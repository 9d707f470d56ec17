/**
 * LoA ↔ acr: eIDAS low/substantial/high are eidas1/eidas2/eidas3. The mapping is one table, in both
 * directions, and never raises a level (FranceConnect's bridge maps `low` to `eidas2`: we must not).
 * An unknown LoA or acr is an error, never a default.
 */
import type { LoaUri } from '../../adapters/contract.ts';
import { GatewayError } from '../errors.ts';

export const ACR_VALUES = ['eidas1', 'eidas2', 'eidas3'] as const;
export type Acr = (typeof ACR_VALUES)[number];

export const LOA_URIS = [
  'http://eidas.europa.eu/LoA/low',
  'http://eidas.europa.eu/LoA/substantial',
  'http://eidas.europa.eu/LoA/high',
] as const satisfies readonly LoaUri[];

const TABLE: ReadonlyArray<{ loa: LoaUri; acr: Acr; rank: number }> = [
  { loa: 'http://eidas.europa.eu/LoA/low', acr: 'eidas1', rank: 1 },
  { loa: 'http://eidas.europa.eu/LoA/substantial', acr: 'eidas2', rank: 2 },
  { loa: 'http://eidas.europa.eu/LoA/high', acr: 'eidas3', rank: 3 },
];

export function acrOfLoa(loa: string): Acr {
  const row = TABLE.find((r) => r.loa === loa);
  if (!row) throw new GatewayError('LOA_UNKNOWN', 400, 'unknown level of assurance', { detail: loa });
  return row.acr;
}

export function loaOfAcr(acr: string): LoaUri {
  const row = TABLE.find((r) => r.acr === acr);
  if (!row) throw new GatewayError('ACR_UNKNOWN', 400, 'unknown acr value', { detail: acr });
  return row.loa;
}

export function acrRank(acr: string): number {
  const row = TABLE.find((r) => r.acr === acr);
  if (!row) throw new GatewayError('ACR_UNKNOWN', 400, 'unknown acr value', { detail: acr });
  return row.rank;
}

export function isAcr(value: string): value is Acr {
  return (ACR_VALUES as readonly string[]).includes(value);
}

/** The lower of two LoAs: used to clip what an IdP asserts to what it may assert. */
export function minLoa(a: LoaUri, b: LoaUri): LoaUri {
  return acrRank(acrOfLoa(a)) <= acrRank(acrOfLoa(b)) ? a : b;
}
