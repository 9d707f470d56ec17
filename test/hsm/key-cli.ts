/**
 * Runs the key-ceremony CLI (`node hsm/cli.ts`) as an operator would, against this test file's own
 * SoftHSM2 token and migrated database.
 */
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { migrate } from '../../gateway/store/migrate.ts';
import { freshDatabase, type freshToken } from '../helpers/services.ts';

export interface KeyCli {
  db: string;
  run(args: string[], extra?: Record<string, string>): { status: number | null; stdout: string; stderr: string };
  /** A query of the CLI's database (what it recorded). */
  query<R extends pg.QueryResultRow>(sql: string): Promise<R[]>;
}

/** A migrated database for `token`, and a runner of the CLI bound to both. */
export async function keyCli(token: ReturnType<typeof freshToken>): Promise<KeyCli> {
  const db = await freshDatabase();
  const pool = new pg.Pool({ connectionString: db });
  await migrate(pool);
  await pool.end();
  return {
    db,
    async query<R extends pg.QueryResultRow>(sql: string) {
      const reader = new pg.Pool({ connectionString: db, max: 1 });
      try {
        return (await reader.query<R>(sql)).rows;
      } finally {
        await reader.end();
      }
    },
    run(args, extra = {}) {
      const result = spawnSync(process.execPath, ['hsm/cli.ts', ...args], {
        cwd: new URL('../../', import.meta.url),
        env: {
          PATH: process.env.PATH,
          SOFTHSM2_CONF: process.env.SOFTHSM2_CONF,
          NODE_NO_WARNINGS: '1',
          GW_PKCS11_LIBRARY: token.library,
          GW_PKCS11_TOKEN_LABEL: token.label,
          GW_PKCS11_PIN: token.pin,
          GW_DATABASE_URL: db,
          ...extra,
        },
        encoding: 'utf8',
      });
      return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
    },
  };
}
