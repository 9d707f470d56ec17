/** Test fixtures for the risk stages: real Redis and PostgreSQL, signals of a login, and slow/failing stage variants. */
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { RiskSignals } from '../../gateway/risk/types.ts';
import { createRedis } from '../../gateway/store/redis.ts';
import { redisPrefix, redisUrl } from '../helpers/services.ts';
import { migratedPool } from '../gateway/store/fixtures.ts';

export async function stores(): Promise<{ redis: Redis; pool: Pool; close(): Promise<void> }> {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  const pool = await migratedPool();
  return { redis, pool, close: async () => void (await Promise.all([redis.quit(), pool.end()])) };
}

let n = 0;
export function signals(over: Partial<RiskSignals> = {}): RiskSignals {
  n += 1;
  return {
    loginId: `login-${process.pid}-${n}`,
    clientId: 'rp',
    idp: 'idp',
    accountId: 'acct-1',
    ip: '192.0.2.10',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    acr: 'eidas2',
    at: Date.now(),
    deviceId: 'device-aaaaaaaaaaaaaaaaaaaa',
    fingerprint: {
      uaFamily: 'Firefox 128',
      os: 'Linux',
      deviceType: 'desktop',
      languages: 'fr-fr,fr',
      timeZone: 'Europe/Paris',
      screen: '1920x1080',
      platform: 'Linux x86_64',
    },
    network: { prefix: '192.0.2.0/24', asn: '3215', country: 'FR', lat: 48.85, lon: 2.35 },
    transaction: null,
    ...over,
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the write-behind of `RbaStore.learn` has reached PostgreSQL: the person's scope counts `total`
 * logins there. A fixed sleep flaked on a loaded CI machine; this polls for up to 15 s, then fails clearly.
 */
export async function durableTotal(pool: Pool, scope: string, total: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { rows } = await pool.query<{ count: string }>(
      `select count from rba_counts where scope = $1 and field = 't'`,
      [scope],
    );
    if (Number(rows[0]?.count ?? 0) >= total) return;
    if (Date.now() > deadline) throw new Error(`rba_counts of ${scope} never reached ${total} (write-behind lost?)`);
    await sleep(20);
  }
}
