/**
 * Starts the real services a run needs (PostgreSQL, Redis, a SoftHSM2 token store) under one folder,
 * on loopback and free ports, and stops them all again.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './services/free-port.ts';
import { startPostgres, type PostgresHandle } from './services/postgres.ts';
import { startRedis, type RedisHandle } from './services/redis.ts';
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
    const pgPort = ports.postgres ?? (await freePort());
    log(`stack: PostgreSQL on 127.0.0.1:${pgPort}`);
    const postgres = await startPostgres(join(dir, 'postgres'), pgPort);
    stoppers.push(() => postgres.stop());
    const redisPort = ports.redis ?? (await freePort());
    log(`stack: Redis on 127.0.0.1:${redisPort}`);
    const redis = await startRedis(join(dir, 'redis'), redisPort);
    stoppers.push(() => redis.stop());
    const softhsm = prepareSoftHsm(join(dir, 'softhsm'));
    log(`stack: SoftHSM2 tokens in ${join(dir, 'softhsm')}`);
    return { dir, postgres, redis, softhsm, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
