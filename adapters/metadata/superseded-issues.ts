/**
 * The replaced metadata issues of every IdP, remembered in the adapters' shared state (the gateway: Redis, shared
 * by every instance): a restarted or newly started instance refuses an older signed issue replayed, as the instance
 * that saw it replaced does (`monitor.ts`, `SAML_METADATA_ROLLBACK`). One key per replaced issue, kept as long as
 * that issue could still be replayed (until its validUntil).
 */
import type { AdapterStateStore } from '../contract.ts';
import type { SupersededIssues } from './monitor.ts';

const keyOf = (idp: string, digest: string) => `md:superseded:${idp}:${digest}`;

/**
 * @example
 * const monitor = new MetadataMonitor({ superseded: supersededIn(context.state) });
 */
export function supersededIn(state: AdapterStateStore): SupersededIssues {
  return {
    has: async (idp, digest) => (await state.get(keyOf(idp, digest))) !== null,
    add: (idp, digest, ttlSeconds) => state.put(keyOf(idp, digest), '1', ttlSeconds),
  };
}
