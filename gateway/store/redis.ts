/** The Redis connection: one ioredis client per process, with a key prefix per deployment. */
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
