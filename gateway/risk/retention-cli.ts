/**
 * The retention job of the fraud pipeline's data (retention.ts says what is kept how long), run daily by
 * cron or a systemd timer:
 *
 *   GW_DATABASE_URL=postgres://... node gateway/risk/retention-cli.ts
 *
 * Prints the rows removed per table as JSON; the purge is written to the audit chain. Exit 0 done,
 * 1 could not run, 2 usage.
 */
import { parseArgs } from 'node:util';
import { AuditLog } from '../audit/audit-log.ts';
import { createPool } from '../store/postgres.ts';
import { enforceRetention } from './retention.ts';

async function main(): Promise<number> {
  try {
    parseArgs({ allowPositionals: false, options: {} });
  } catch (error) {
    console.error(
      `retention: ${(error as Error).message}\nusage: GW_DATABASE_URL=... node gateway/risk/retention-cli.ts`,
    );
    return 2;
  }
  const url = process.env.GW_DATABASE_URL;
  if (!url) {
    console.error(
      'retention: GW_DATABASE_URL is required\nusage: GW_DATABASE_URL=... node gateway/risk/retention-cli.ts',
    );
    return 2;
  }
  const pool = createPool(url, { max: 1, statementTimeoutMs: 600_000 });
  try {
    console.log(JSON.stringify(await enforceRetention(pool, new AuditLog(pool))));
    return 0;
  } finally {
    await pool.end();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`retention: ${(error as Error).message}`);
  process.exitCode = 1;
}
