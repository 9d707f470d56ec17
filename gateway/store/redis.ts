/**
 * The Redis connection: one ioredis client per process, with a key prefix per deployment.
 *
 * Auto-pipelining: the commands issued during one turn of the event loop (by concurrent requests) leave in
 * one socket write. Each loopback write costs the gateway more CPU than the command itself (issue #14: a
 * login made ~80 round trips, the largest single item of its profile); every command still has its own
 * answer and error, in order. Commands ioredis never auto-pipelines (SUBSCRIBE, MULTI, INFO…) are sent as
 * before.
 */
import { Redis } from 'ioredis';

export interface RedisOptions {
  url: string;
  /** Every key the gateway writes starts with this (one Redis may serve several deployments or tests). */
  keyPrefix: string;
  /** Connection errors (ioredis reconnects by itself); without a listener they would be printed raw. */
  onError?: (error: Error) => void;
}

export function createRedis(options: RedisOptions): Redis {
  const redis = new Redis(options.url, {
    keyPrefix: options.keyPrefix,
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    enableAutoPipelining: true,
  });
  let lastReport = 0;
  redis.on('error', (error: Error) => {
    // one report per 10 s while the connection is down, not one per retry
    if (Date.now() - lastReport < 10_000) return;
    lastReport = Date.now();
    options.onError?.(error);
  });
  return redis;
}
