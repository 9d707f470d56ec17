/**
 * What an operator sees of the PostgreSQL read replica (issue #15): the measured lag, where the reads that
 * may lag go, and a log line at each change of route.
 *
 * | event | log (pino) | metric |
 * |---|---|---|
 * | each heartbeat | — | `gateway_db_replica_lag_seconds` (+Inf while the replica does not answer) |
 * | lag above the limit | warn `replica reads moved to the primary` (`lag_ms`) | `gateway_db_lagging_reads_on_replica` 0, `gateway_db_replica_route_changes_total{route="primary"}` |
 * | lag low for long enough | info `replica reads back on the replica` | `gateway_db_lagging_reads_on_replica` 1, `…{route="replica"}` |
 * | heartbeat write failed | warn `replica heartbeat failed` | — |
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ReplicaRouterEvents } from '../store/replica-router.ts';
import { declareCounter, declareGauge } from './metrics.ts';

export function replicaWatch(registry: Registry, logger: Logger): ReplicaRouterEvents {
  const lag = declareGauge(
    registry,
    'gateway_db_replica_lag_seconds',
    'How far the PostgreSQL read replica is behind, by the heartbeat (+Inf when it does not answer)',
    [],
    'max',
  );
  const onReplica = declareGauge(
    registry,
    'gateway_db_lagging_reads_on_replica',
    'Whether the reads that may lag go to the replica (1) or to the primary (0)',
    [],
    'min',
  );
  const changes = declareCounter(
    registry,
    'gateway_db_replica_route_changes_total',
    'Changes of where the reads that may lag go',
    ['route'],
  );
  onReplica.set(0);
  return {
    lag: (ms) => lag.set(ms / 1000),
    route: (route, ms) => {
      onReplica.set(route === 'replica' ? 1 : 0);
      changes.inc({ route });
      if (route === 'primary')
        logger.warn({ event: 'replica_lagging', lag_ms: ms }, 'replica reads moved to the primary');
      else logger.info({ event: 'replica_caught_up', lag_ms: ms }, 'replica reads back on the replica');
    },
    error: (err) => logger.warn({ err }, 'replica heartbeat failed'),
  };
}
