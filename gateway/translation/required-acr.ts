/**
 * The acr an RP requires for this login: the lowest of the `acr_values` it sent (the RP accepts any of
 * them), else the lowest of the client's `default_acr_values`, raised to the minimum of the federation and
 * of the client (default eidas2: this product serves substantial and high only). Asking for nothing or for
 * less never lowers the bar; a login below it is stepped up or refused by the policy, never issued. An
 * unknown value is an error, never ignored.
 *
 * An `acr` asked as essential in the `claims` parameter (OIDC Core §5.5.1.1: `value`, or `values`) is read as
 * `acr_values` are, and wins over them: the lowest listed, raised to the minimum. The levels are ordered, so a
 * login at a higher one satisfies it (oidc-provider's own `essential_acr(s)` checks, an exact match, are
 * taken out of the login prompt, `session-reuse.ts`: they sent a person who logged in at eidas3 for an RP
 * asking eidas2, or one whose RP asked eidas3 this way only, back to the login page again and again).
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

/**
 * The acr values an authorization request asks for: an essential `acr` of the `claims` parameter (the parsed
 * object or its JSON text) when there is one, else `acr_values`.
 *
 * @example
 * requestedAcrValues({ claims: '{"id_token":{"acr":{"essential":true,"values":["eidas3"]}}}' }) // 'eidas3'
 */
export function requestedAcrValues(params: { acr_values?: unknown; claims?: unknown } | undefined): string | undefined {
  const essential = essentialAcr(params?.claims);
  if (essential !== undefined) return essential;
  return typeof params?.acr_values === 'string' ? params.acr_values : undefined;
}

function essentialAcr(claims: unknown): string | undefined {
  let parsed = claims;
  if (typeof claims === 'string') {
    try {
      parsed = JSON.parse(claims);
    } catch {
      return undefined; // oidc-provider refuses a claims parameter that is not JSON before any login
    }
  }
  const acr = (parsed as { id_token?: { acr?: unknown } } | null | undefined)?.id_token?.acr;
  if (typeof acr !== 'object' || acr === null) return undefined;
  const { essential, value, values } = acr as { essential?: unknown; value?: unknown; values?: unknown };
  if (essential !== true) return undefined;
  const listed: unknown[] = Array.isArray(values) ? values : value === undefined ? [] : [value];
  // a value that is no string reaches requiredAcr as text, to be refused there as ACR_UNKNOWN, never ignored
  return listed.length === 0 ? undefined : listed.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ');
}

/** The floor of a client: the federation's minimum, raised (never lowered) by the client's own. */
export function minimumAcrOf(federationMinimum: Acr, clientMinimum: Acr | undefined): Acr {
  return clientMinimum !== undefined && acrRank(clientMinimum) > acrRank(federationMinimum)
    ? clientMinimum
    : federationMinimum;
}
