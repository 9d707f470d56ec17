/**
 * The session store's counters, on the gateway's metrics registry:
 *
 * | metric                                      | what                                                  |
 * |---------------------------------------------|-------------------------------------------------------|
 * | gateway_session_reads_total{kind,source}    | reads by record kind and where they were answered (cache, db, miss): hit ratio = cache / (cache + db) |
 * | gateway_session_token_refusals_total{code}  | tokens refused because of their session (SESSION_REVOKED, SESSION_VERSION_STALE, SESSION_OF_ANOTHER_PERSON) |
 * | gateway_session_revocations_total{scope}    | sessions revoked, by scope (session, account, idp, issued_before) |
 * | gateway_session_merges_total                | session writes merged into another request's write of the same session (two SSOs at once) |
 */
import type { Registry } from 'prom-client';
import { declareCounter } from '../observability/metrics.ts';
import type { SessionMetrics } from './session-store.ts';

export function sessionMetrics(registry: Registry): SessionMetrics {
  const reads = declareCounter(
    registry,
    'gateway_session_reads_total',
    'Session store reads by record kind and source (cache, db, miss).',
    ['kind', 'source'],
  );
  const refusals = declareCounter(
    registry,
    'gateway_session_token_refusals_total',
    'Tokens refused because of their session, by code.',
    ['code'],
  );
  const revocations = declareCounter(registry, 'gateway_session_revocations_total', 'Sessions revoked, by scope.', [
    'scope',
  ]);
  const merges = declareCounter(
    registry,
    'gateway_session_merges_total',
    "Session writes merged into another request's write of the same session.",
    [],
  );
  return {
    merged: () => {
      merges.inc();
    },
    read: (kind, source) => {
      reads.inc({ kind, source });
    },
    refused: (code) => {
      refusals.inc({ code });
    },
    revoked: (scope, count) => {
      revocations.inc({ scope }, count);
    },
  };
}
