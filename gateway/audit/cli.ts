/**
 * The audit CLI.
 *
 *   GW_DATABASE_URL=postgres://... node gateway/audit/cli.ts verify --trusted-jwks FILE --anchor FILE
 *       walks the chain and the checkpoints; prints a JSON report; exit 0 intact, 3 tampered (the findings
 *       say what and where: AUDIT_RECORD_EDITED at seq 42, AUDIT_SEQ_GAP, AUDIT_CHECKPOINT_MISSING, ...),
 *       1 could not run, 2 usage. Both files are required: the audit public keys the operator trusts (never
 *       the key stored beside the checkpoints) and the anchor file kept outside the database (anchor.ts);
 *   node gateway/audit/cli.ts checkpoint --config gateway.config.json
 *       signs the chain head now with the audit key in the HSM.
 *
 * (The retention job is `node gateway/risk/retention-cli.ts`: purging is the risk data's business, the
 * audit log is only told.)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import { loadConfigFile } from '../config/load.ts';
import { createPool } from '../store/postgres.ts';
import { cliUser } from '../cli-arguments.ts';
import { readAnchor } from './anchor.ts';
import { verifyAuditChain } from './verify.ts';

const OPTIONS = { config: { type: 'string' }, 'trusted-jwks': { type: 'string' }, anchor: { type: 'string' } } as const;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (error) {
    console.error(`audit: ${(error as Error).message}`);
    return usage();
  }
  const [command] = parsed.positionals;
  const flag = (name: keyof typeof OPTIONS) => parsed.values[name];
  if (command === 'checkpoint') {
    const file = flag('config');
    if (!file) return usage();
    const config = loadConfigFile(file);
    const { openKeyStore } = await import('../../hsm/token-keystore.ts');
    const { takeCheckpoint } = await import('./checkpoint.ts');
    if (config.audit.anchorFile === undefined)
      console.error('audit: warning: no audit.anchorFile configured: this checkpoint is anchored in the database only');
    const { LifecycleKeyStore } = await import('../../hsm/lifecycle/lifecycle-keystore.ts');
    const { PgKeyRecords } = await import('../../hsm/lifecycle/pg-key-records.ts');
    const tokens = await openKeyStore({
      library: config.hsm.library,
      tokenLabel: config.hsm.tokenLabel,
      pin: config.hsm.pin,
    });
    const pool = createPool(config.database.url, { max: 2 });
    try {
      // the audit key the lifecycle says is active (as the gateway's checkpointer signs with), never any audit key
      // on the token: a retired, next or pending one signed a checkpoint `verify` then refused, or should have
      const keys = await LifecycleKeyStore.open({ tokens, records: new PgKeyRecords(pool), actor: `cli:${cliUser()}` });
      console.log(JSON.stringify(await takeCheckpoint(pool, keys.activeSigner('audit'), config.audit.anchorFile)));
      return 0;
    } finally {
      await pool.end();
      await tokens.close();
    }
  }
  const url = process.env.GW_DATABASE_URL;
  if (!url || command !== 'verify') return usage();
  const pool = createPool(url, { max: 1, statementTimeoutMs: 600_000 });
  try {
    const jwksFile = flag('trusted-jwks');
    const anchorFile = flag('anchor');
    if (!jwksFile) {
      console.error(
        'audit: AUDIT_TRUSTED_KEYS_REQUIRED: give --trusted-jwks FILE (the audit public keys you trust; the key stored with the checkpoints proves nothing)',
      );
      return 2;
    }
    if (!anchorFile) {
      console.error(
        'audit: AUDIT_ANCHOR_REQUIRED: give --anchor FILE (the checkpoint anchor kept outside the database: audit.anchorFile)',
      );
      return 2;
    }
    const trustedKeys = (JSON.parse(readFileSync(jwksFile, 'utf8')) as { keys: JWK[] }).keys;
    const report = await verifyAuditChain(pool, { trustedKeys, anchor: readAnchor(anchorFile) });
    console.log(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 3;
  } finally {
    await pool.end();
  }
}

function usage(): number {
  console.error(
    'usage: node gateway/audit/cli.ts verify --trusted-jwks FILE --anchor FILE   (with GW_DATABASE_URL)\n       node gateway/audit/cli.ts checkpoint --config FILE',
  );
  return 2;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`audit: ${(error as Error).message}`);
  process.exitCode = 1;
}
