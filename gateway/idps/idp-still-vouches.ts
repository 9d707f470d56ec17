/**
 * Whether a login the IdP made earlier may still stand for a new one without going back to it (SSO on the gateway's
 * session) or be carried on (a refresh): what the IdP may do now, not what it could when the person logged in.
 *
 * - an IdP no longer configured, or disabled by the operator (`idps disable`, `idps remove`: a compromised key),
 *   vouches for nothing: the person goes upstream, where the IdP is refused too. An IdP only `unavailable` (its
 *   metadata could not be fetched or has expired) still vouches for what it asserted while it was trusted: its
 *   people keep their sessions while its metadata host is down;
 * - an IdP registered for other RPs only (`onlyClients`, idp-clients.ts) never serves this one;
 * - a level above the IdP's `maxLoa` now (the operator lowered it) is not vouched for: the ACS clips a new assertion
 *   to that level, and a session from before the change does not keep the old one.
 */
import type { UpstreamAdapter } from '../../adapters/contract.ts';
import { acrOfLoa, acrRank } from '../translate/acr.ts';
import { servesClient } from './idp-clients.ts';

/** Why the IdP no longer vouches for the login, or `null` when it still does. */
export type NoLongerVouched = 'idp_unknown' | 'idp_disabled' | 'idp_not_for_client' | 'above_idp_max_loa';

/**
 * @example
 * if (idpNoLongerVouches(services.adapters.list(), evidence.idp, clientId, evidence.acr) !== null) return null;
 */
export function idpNoLongerVouches(
  adapters: readonly UpstreamAdapter[],
  idpId: string,
  clientId: string,
  acr: string,
): NoLongerVouched | null {
  const adapter = adapters.find((a) => a.id === idpId);
  if (adapter === undefined) return 'idp_unknown';
  if (adapter.availability?.() === 'disabled') return 'idp_disabled';
  if (!servesClient(adapter, clientId)) return 'idp_not_for_client';
  if (acrRank(acr) > acrRank(acrOfLoa(adapter.maxLoa))) return 'above_idp_max_loa';
  return null;
}
