/**
 * Which relying parties an IdP serves (`onlyClients` on its entry; absent: every one). A test IdP whose keys sit on a
 * laptop (the conformance suite's), or a sector's own IdP, is registered for its RPs only: every other RP is never
 * offered it (the chooser, the one-IdP skip), cannot name it (`idp_hint`, the chooser's form: `IDP_UNKNOWN`, as an IdP
 * it does not know), and never gets a login through a session that stands on it (SSO: the person goes upstream).
 */
import type { UpstreamAdapter } from '../../adapters/contract.ts';
import { ConfigError } from '../errors.ts';

/** Whether `adapter` serves the RP `clientId`. */
export function servesClient(adapter: Pick<UpstreamAdapter, 'onlyClients'>, clientId: string): boolean {
  return adapter.onlyClients === undefined || adapter.onlyClients.includes(clientId);
}

/**
 * Refuses at boot an `onlyClients` entry that names no configured client (a typo would leave the IdP serving nobody,
 * or, once a client of that name is added, someone unintended).
 */
export function checkOnlyClients(adapters: readonly UpstreamAdapter[], clientIds: readonly string[]): void {
  for (const adapter of adapters) {
    const unknown = unknownClientIn(adapter.onlyClients, clientIds);
    if (unknown !== undefined)
      throw new ConfigError(`${adapter.id}.onlyClients`, `names ${unknown}, which is not a configured client`);
  }
}

/** The first client an `onlyClients` list names that is not configured, or `undefined`. */
export function unknownClientIn(
  onlyClients: readonly string[] | undefined,
  clientIds: readonly string[],
): string | undefined {
  return (onlyClients ?? []).find((clientId) => !clientIds.includes(clientId));
}
