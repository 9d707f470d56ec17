/**
 * The logout capability of an adapter a test expects to offer Single Logout (a test fails loudly when the adapter
 * declares it does not).
 */
import type { UpstreamAdapter, UpstreamLogout } from '../../adapters/contract.ts';

export function offeredLogout(adapter: UpstreamAdapter): UpstreamLogout {
  if (!adapter.logout.offered) throw new Error(`${adapter.id} offers no single logout: ${adapter.logout.reason}`);
  return adapter.logout;
}
