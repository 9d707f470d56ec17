/**
 * The gateway's database role apart from the tables' owner: what it is granted, and whether the boot runs as the
 * owner. The audit trail's protections (triggers refusing UPDATE, DELETE and TRUNCATE; a chain head that only moves
 * forward) bind every role but the tables' owner, who may disable triggers: a gateway running as the owner (the
 * default, one role for everything) can rewrite the records written since the last signed checkpoint.
 *
 * `node gateway/store/migrate.ts --grant-runtime <role>`, run with the owner's URL, migrates and then grants `role`:
 *
 * | tables | rights |
 * |---|---|
 * | `audit_log`, `audit_checkpoints` | `SELECT`, `INSERT` (appended to, never changed) |
 * | `audit_chain_head` | `SELECT` (moved by the insert trigger, which runs as the owner) |
 * | `schema_migrations` | `SELECT` (the boot checks the schema is up to date) |
 * | every other table of the schema (the session store's day partitions too) | `SELECT`, `INSERT`, `UPDATE`, `DELETE` |
 * | sequences | `USAGE`, `SELECT` |
 * | tables and sequences the owner makes later (default privileges) | as every other table |
 *
 * Run it again after every upgrade (new tables): the same command migrates and grants.
 */
import type { Pool } from 'pg';

/** Tables the runtime role only appends to or reads. */
const APPEND_ONLY = ['audit_log', 'audit_checkpoints'] as const;
const READ_ONLY = ['audit_chain_head', 'schema_migrations'] as const;
const ROLE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Grants `role` what the gateway needs, and no right to change the audit trail (see above).
 *
 * @example
 * await grantRuntime(ownerPool, 'gateway_runtime');
 */
export async function grantRuntime(pool: Pool, role: string): Promise<string[]> {
  if (!ROLE.test(role)) throw new Error(`the role name ${JSON.stringify(role)} is not a plain lower-case identifier`);
  const { rows } = await pool.query<{ table: string }>(
    `select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'p') order by 1`,
  );
  const quoted = `"${role}"`;
  const special = new Set<string>([...APPEND_ONLY, ...READ_ONLY]);
  const statements = [
    `grant usage on schema ${await schemaOf(pool)} to ${quoted}`,
    // no role but the owner makes objects where the owner's functions look (PostgreSQL 14 and older let every role)
    `revoke create on schema ${await schemaOf(pool)} from public`,
    ...rows
      .filter((r) => !special.has(r.table))
      .map((r) => `grant select, insert, update, delete on "${r.table}" to ${quoted}`),
    ...APPEND_ONLY.map((table) => `revoke update, delete, truncate on ${table} from ${quoted}`),
    ...APPEND_ONLY.map((table) => `grant select, insert on ${table} to ${quoted}`),
    ...READ_ONLY.map((table) => `revoke insert, update, delete, truncate on ${table} from ${quoted}`),
    ...READ_ONLY.map((table) => `grant select on ${table} to ${quoted}`),
    `grant usage, select on all sequences in schema ${await schemaOf(pool)} to ${quoted}`,
    // the partition upkeep runs as the owner (migration 0910): no other role may call it
    `grant execute on function session_records_maintain(timestamptz, interval, interval) to ${quoted}`,
    // the tables the owner makes later: the day partitions of the session store (its upkeep runs as the owner),
    // and a later version's, until this command runs again after that upgrade
    `alter default privileges in schema ${await schemaOf(pool)} grant select, insert, update, delete on tables to ${quoted}`,
    `alter default privileges in schema ${await schemaOf(pool)} grant usage, select on sequences to ${quoted}`,
  ];
  for (const sql of statements) await pool.query(sql);
  return statements;
}

async function schemaOf(pool: Pool): Promise<string> {
  const { rows } = await pool.query<{ schema: string }>('select quote_ident(current_schema()) as schema');
  return rows[0]!.schema;
}

/**
 * Why the connected role could rewrite the audit trail, or `undefined` when it cannot: it owns `audit_log` (may
 * disable its triggers), or it is a superuser.
 */
export async function auditTrailWritableBy(pool: Pool): Promise<string | undefined> {
  const { rows } = await pool.query<{ role: string; owner: boolean; superuser: boolean }>(
    `select current_user as role,
            pg_get_userbyid(c.relowner) = current_user as owner,
            (select rolsuper from pg_roles where rolname = current_user) as superuser
       from pg_class c where c.oid = 'audit_log'::regclass`,
  );
  const row = rows[0];
  if (!row) return undefined;
  if (row.superuser) return `the gateway connects as ${row.role}, a superuser`;
  if (row.owner) return `the gateway connects as ${row.role}, the owner of audit_log`;
  return undefined;
}
