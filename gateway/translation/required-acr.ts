/**
 * The acr an RP requires for this login: the lowest of the `acr_values` it sent (the RP accepts any of
 * them), else the lowest of the client's `default_acr_values`, raised to the minimum of the federation and
 * of the client (default eidas2: this product serves substantial and high only). Asking for nothing or for
 * less never lowers the bar; a login below it is stepped up or refused by the policy, never issued. An
 * unknown value is an error, never ignored.
 */
import { GatewayError } from '../errors.ts';
import { acrRank, isAcr, type Acr } from '../translate/acr.ts';

/**
 * @example
 * requiredAcr(undefined, [], 'eidas2') // 'eidas2'
 * requiredAcr('eidas1 eidas3', [], 'eidas2') // 'eidas2'
 */
export function requiredAcr(requested: string | undefined, clientDefaults: readonly string[], minimum: Acr): Acr {
  const candidates = requested ? requested.split(' ').filter(Boolean) : [...clientDefaults];
  for (const value of candidates) {
    if (!isAcr(value)) throw new GatewayError('ACR_UNKNOWN', 400, 'unsupported acr value requested', { detail: value });
  }
  const lowest = (candidates as Acr[]).reduce<Acr>((low, v) => (acrRank(v) < acrRank(low) ? v : low), 'eidas3');
  return candidates.length === 0 || acrRank(lowest) < acrRank(minimum) ? minimum : lowest;
}

/** The floor of a client: the federation's minimum, raised (never lowered) by the client's own. */
export function minimumAcrOf(federationMinimum: Acr, clientMinimum: Acr | undefined): Acr {
  return clientMinimum !== undefined && acrRank(clientMinimum) > acrRank(federationMinimum)
    ? clientMinimum
    : federationMinimum;
}
