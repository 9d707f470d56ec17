/**
 * What an operator sees of the Redis connection (issue #15): log lines and metrics for a lost connection,
 * a reconnection, a new primary (a Sentinel failover) and the commands refused while Redis was away.
 *
 * | event | log (pino) | metric |
 * |---|---|---|
 * | connection lost | warn `redis connection lost` | `gateway_redis_up` 0, `gateway_redis_connection_events_total{event="lost"}` |
 * | connected again | info `redis connected` (`address`) | `gateway_redis_up` 1, `…{event="ready"}` |
 * | another primary | warn `redis primary changed` (`from`, `to`) | `…{event="primary_changed"}` |
 * | a command refused | (the caller logs its code) | `gateway_redis_unavailable_total` |
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { declareCounter, declareGauge } from './metrics.ts';

export interface RedisWatch {
  /** Give to `createRedis({ onUnavailable })`. */
  unavailable(command: string): void;
  /** Starts watching the client's connection events. */
  watch(redis: Redis): void;
}

export function redisWatch(registry: Registry, logger: Logger): RedisWatch {
  const up = declareGauge(
    registry,
    'gateway_redis_up',
    'Whether this process is connected to Redis (1) or not (0)',
    [],
    'min',
  );
  const events = declareCounter(
    registry,
    'gateway_redis_connection_events_total',
    'Redis connection events: ready, lost, primary_changed (a Sentinel failover)',
    ['event'],
  );
  const refused = declareCounter(
    registry,
    'gateway_redis_unavailable_total',
    'Redis commands that failed with FLOW_STORE_UNAVAILABLE because Redis could not answer',
    ['command'],
  );
  return {
    unavailable: (command) => refused.inc({ command: command.toLowerCase() }),
    watch(redis) {
      let address: string | undefined;
      let connected = false;
      redis.on('ready', () => {
        connected = true;
        up.set(1);
        events.inc({ event: 'ready' });
        const stream = (redis as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
        const now = stream?.remotePort === undefined ? undefined : `${stream.remoteAddress}:${stream.remotePort}`;
        logger.info({ address: now }, 'redis connected');
        if (address !== undefined && now !== undefined && now !== address) {
          events.inc({ event: 'primary_changed' });
          logger.warn({ event: 'redis_primary_changed', from: address, to: now }, 'redis primary changed');
        }
        address = now ?? address;
      });
      redis.on('close', () => {
        if (!connected) return;
        connected = false;
        up.set(0);
        events.inc({ event: 'lost' });
        logger.warn({ code: 'FLOW_STORE_UNAVAILABLE', address }, 'redis connection lost');
      });
    },
  };
}
