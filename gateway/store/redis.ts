/** The Redis connection: one ioredis client per process, with a key prefix per deployment. */
import { Redis } from 'ioredis';

export interface RedisOptions {
  url: string;
  /** Every key the gateway writes starts with this (one Redis may serve several deployments or tests). */
  keyPrefix: string;
}

export function createRedis(options: RedisOptions): Redis {
  return new Redis(options.url, {
    keyPrefix: options.keyPrefix,
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
  });
}
