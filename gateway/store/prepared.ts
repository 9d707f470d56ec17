/**
 * Named (prepared) statements for the hot path of a login.
 *
 * node-postgres sends a statement without a name as an unnamed one: PostgreSQL parses, analyses and plans it
 * on every call. For the session store's reads of `session_records` (partitioned by expiry, one partition a
 * day) planning costs more than running: the planner opens every partition for each call. A named statement
 * is parsed once per connection, and after five calls PostgreSQL keeps a generic plan (partitions still
 * pruned at execution), so a call is execution only.
 *
 * - a name is bound to one text for the life of the process: naming two texts alike is refused at import
 *   (node-postgres would refuse it later, on a connection that already prepared the first);
 * - the values are still parameters: nothing is interpolated into the text.
 *
 * @example
 * const CURRENT = prepared('session_current', 'select ... where record_key = $1');
 * await pool.query(CURRENT.with([key]));
 */
import type { QueryConfig } from 'pg';

export interface Prepared {
  readonly name: string;
  readonly text: string;
  /** The statement with this call's values, for `pool.query` / `client.query`. */
  with(values: unknown[]): QueryConfig;
}

const TEXTS = new Map<string, string>();

/** Declares a named statement. Throws a TypeError when `name` was declared with another text. */
export function prepared(name: string, text: string): Prepared {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new TypeError(`prepared statement name ${JSON.stringify(name)}`);
  const known = TEXTS.get(name);
  if (known !== undefined && known !== text) throw new TypeError(`prepared statement ${name} declared twice`);
  TEXTS.set(name, text);
  return { name, text, with: (values) => ({ name, text, values }) };
}
