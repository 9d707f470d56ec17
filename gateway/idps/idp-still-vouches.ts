/**
 * Whether a login the IdP made earlier may still stand for a new one without going back to it (SSO on the gateway's
 * session) or be carried on (a refresh): what the IdP may do now, not what it could when the person logged in.
 *
 * - an IdP no longer configured (removed from the file, or `idps remove`), or disabled by the operator (`idps
 *   disable`: a compromised key), vouches for nothing: the person goes upstream, where the IdP is refused too. An IdP only `unavailable` (its
 *   metadata could not be fetched or has expired) still vouches for what it asserted while it was trusted: its
 *   people keep their sessions while its metadata host is down;
 * - an IdP registered for other RPs only (`onlyClients`, idp-clients.ts) never serves this one;
 * - a level above the IdP's `maxLoa` now (the operator lowered it) is not vouched for: the ACS clips a new assertion
 *   to that level, and a session from before the change does not keep the old one.
 */
import type { UpstreamAdapter } from '../../adapters/contract.ts';
import { acrOfLoa, acrRank } from '../translate/acr.ts';
import { servesClient } from './idp-clients.ts';

/**
 * Why the IdP no longer vouches for the login, or `null` when it still does. `idp_not_loaded_here`: the durable
 * registry has it enabled, but this instance left it out at boot (its row unreadable here, or not fitting this host:
 * a key, a trust anchor). Nothing can go upstream to it from here, but the operator withdrew nothing: a refresh is not
 * a withdrawal's to refuse.
 */
export type NoLongerVouched =
  'idp_unknown' | 'idp_not_loaded_here' | 'idp_disabled' | 'idp_not_for_client' | 'above_idp_max_loa';

/**
 * @example
 * if (idpNoLongerVouches(services.adapters.list(), evidence.idp, clientId, evidence.acr) !== null) return null;
 */
export function idpNoLongerVouches(
  adapters: readonly UpstreamAdapter[],
  idpId: string,
  clientId: string,
  acr: string,
  /** The registry's enabled IdPs this instance left out at boot (start-idps.ts). */
  leftOutEnabled: ReadonlySet<string> = new Set(),
): NoLongerVouched | null {
  const adapter = adapters.find((a) => a.id === idpId);
  if (adapter === undefined) return leftOutEnabled.has(idpId) ? 'idp_not_loaded_here' : 'idp_unknown';
  if (adapter.availability?.() === 'disabled') return 'idp_disabled';
  if (!servesClient(adapter, clientId)) return 'idp_not_for_client';
  if (acrRank(acr) > acrRank(acrOfLoa(adapter.maxLoa))) return 'above_idp_max_loa';
  return null;
}
