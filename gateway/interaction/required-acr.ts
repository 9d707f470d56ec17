/**
 * The acr an RP requires for this login: the lowest of the `acr_values` it sent (the RP accepts any of
 * them), else the lowest of the client's `default_acr_values`, else eidas1. An unknown value is an error,
 * never ignored.
 */
import { GatewayError } from '../errors.ts';
import { acrRank, isAcr, type Acr } from '../translate/acr.ts';

export function requiredAcr(requested: string | undefined, clientDefaults: readonly string[]): Acr {
  const candidates = requested ? requested.split(' ').filter(Boolean) : [...clientDefaults];
  if (candidates.length === 0) return 'eidas1';
  for (const value of candidates) {
    if (!isAcr(value)) throw new GatewayError('ACR_UNKNOWN', 400, 'unsupported acr value requested', { detail: value });
  }
  return (candidates as Acr[]).reduce((low, v) => (acrRank(v) < acrRank(low) ? v : low));
}
