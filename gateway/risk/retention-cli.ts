/**
 * The retention job of the fraud pipeline's data (retention.ts says what is kept how long), run daily by
 * cron or a systemd timer:
 *
 *   node gateway/risk/retention-cli.ts --config gateway.config.json
 *   GW_DATABASE_URL=postgres://... node gateway/risk/retention-cli.ts
 *
 * With `--config`, the database and Redis of that configuration: the global counts' values purged from
 * PostgreSQL leave Redis's copy too. With `GW_DATABASE_URL` alone, PostgreSQL only (a warning says Redis's copy
 * was left as it was). Prints the rows removed per table as JSON; the purge is written to the audit chain.
 * Exit 0 done, 1 could not run, 2 usage.
 */
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { AuditLog } from '../audit/audit-log.ts';
import { loadConfigFile } from '../config/load.ts';
import { createPool } from '../store/postgres.ts';
import { createRedis } from '../store/redis.ts';
import { enforceRetention } from './retention.ts';

const USAGE =
  'usage: node gateway/risk/retention-cli.ts --config FILE\n       GW_DATABASE_URL=... node gateway/risk/retention-cli.ts';

async function main(): Promise<number> {
  let file: string | undefined;
  try {
    file = parseArgs({ allowPositionals: false, options: { config: { type: 'string' } } }).values.config;
  } catch (error) {
    console.error(`retention: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const config = file === undefined ? undefined : loadConfigFile(file);
  const url = config?.database.url ?? process.env.GW_DATABASE_URL;
  if (!url) {
    console.error(`retention: --config or GW_DATABASE_URL is required\n${USAGE}`);
    return 2;
  }
  if (!config)
    console.error(
      "retention: warning: without --config, Redis's copy of the global risk counts is not trimmed (it grows by every value seen)",
    );
  const pool = createPool(url, { max: 1, statementTimeoutMs: 600_000 });
  const redis: Redis | undefined = config ? createRedis(config.redis) : undefined;
  try {
    console.log(JSON.stringify(await enforceRetention(pool, new AuditLog(pool), new Date(), redis)));
    return 0;
  } finally {
    redis?.disconnect();
    await pool.end();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`retention: ${(error as Error).message}`);
  process.exitCode = 1;
}
