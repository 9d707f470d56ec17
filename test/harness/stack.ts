/**
 * Starts the real services a run needs (PostgreSQL, Redis, a SoftHSM2 token store) under one folder,
 * on loopback and free ports, and stops them all again.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startPostgres, startPostgresOnFreePort, type PostgresHandle } from './services/postgres.ts';
import { startRedis, startRedisOnFreePort, type RedisHandle } from './services/redis.ts';
import { prepareSoftHsm, type SoftHsmHome } from './services/softhsm.ts';

export interface Stack {
  dir: string;
  postgres: PostgresHandle;
  redis: RedisHandle;
  softhsm: SoftHsmHome;
  stop(): Promise<void>;
}

export interface StackPorts {
  postgres?: number;
  redis?: number;
}

export async function startStack(
  dir: string,
  ports: StackPorts = {},
  log: (line: string) => void = () => {},
): Promise<Stack> {
  mkdirSync(dir, { recursive: true });
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) {
      try {
        await s();
      } catch (error) {
        log(`stack: stop failed: ${(error as Error).message}`);
      }
    }
    stoppers.length = 0;
  };
  try {
    // a port of our choosing, or a free one chosen again if it was taken before the server could bind it
    const postgres =
      ports.postgres === undefined
        ? await startPostgresOnFreePort(join(dir, 'postgres'))
        : await startPostgres(join(dir, 'postgres'), ports.postgres);
    stoppers.push(() => postgres.stop());
    log(`stack: PostgreSQL on 127.0.0.1:${postgres.port}`);
    const redis =
      ports.redis === undefined
        ? await startRedisOnFreePort(join(dir, 'redis'))
        : await startRedis(join(dir, 'redis'), ports.redis);
    stoppers.push(() => redis.stop());
    log(`stack: Redis on 127.0.0.1:${redis.port}`);
    const softhsm = prepareSoftHsm(join(dir, 'softhsm'));
    log(`stack: SoftHSM2 tokens in ${join(dir, 'softhsm')}`);
    return { dir, postgres, redis, softhsm, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
