/**
 * The counts the Freeman model needs, per person and for everyone: Redis is the hot copy (one hash per
 * scope; the scopes of one read in one script, `READ`), PostgreSQL (`rba_counts`) the durable one.
 *
 * - a scope missing from Redis (restart, eviction) is loaded from PostgreSQL before it is read or counted, each
 *   field only where Redis holds none (a load never lowers a count another instance made meanwhile);
 * - `learn` counts a login atomically in Redis (a Lua script: count, distinct values, number of people)
 *   and writes it behind to PostgreSQL (an upsert adding the same increments); a PostgreSQL failure is
 *   reported, and Redis still holds the count;
 * - values are keyed hashes (`fingerprint.ts` `hashValue`), never the IP address or user agent in clear.
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { CounterBatch } from '../store/counter-batch.ts';
import { LuaScript } from '../store/lua-script.ts';
import { prepared } from '../store/prepared.ts';
import type { Counts } from './freeman.ts';

export const GLOBAL_SCOPE = 'global';

/**
 * How long a person's counts stay in Redis after their last login counted: 90 days, as in PostgreSQL
 * (retention.ts purges `rba_counts` 90 days after their last update; DATA-PROTECTION.md).
 */
export const PERSON_COUNTS_SECONDS = 90 * 86_400;

/**
 * The Lua both counting scripts share: `cold(person, everyone)` lists the scopes Redis lacks ('1', '2');
 * `count(person, everyone, flat)` counts one login of the feature/value pairs in `flat` (count, distinct values,
 * number of people) and answers what it counted first (`u`, `du:<feature>`, `dg:<feature>`).
 */
const COUNTING = `
local function cold(person, everyone)
  local out = {}
  if redis.call('EXISTS', person) == 0 then table.insert(out, '1') end
  if redis.call('EXISTS', everyone) == 0 then table.insert(out, '2') end
  return out
end
local function count(person, everyone, flat)
  local t = redis.call('HINCRBY', person, 't', 1)
  redis.call('EXPIRE', person, ${PERSON_COUNTS_SECONDS})
  if redis.call('HINCRBY', everyone, 't', 1) == 1 then redis.call('PERSIST', everyone) end
  local out = {}
  if t == 1 then redis.call('HINCRBY', everyone, 'u', 1) table.insert(out, 'u') end
  for i = 1, #flat, 2 do
    local field = 'c:' .. flat[i] .. ':' .. flat[i + 1]
    if redis.call('HINCRBY', person, field, 1) == 1 then redis.call('HINCRBY', person, 'd:' .. flat[i], 1) table.insert(out, 'du:' .. flat[i]) end
    if redis.call('HINCRBY', everyone, field, 1) == 1 then redis.call('HINCRBY', everyone, 'd:' .. flat[i], 1) table.insert(out, 'dg:' .. flat[i]) end
  end
  return out
end
`;

/**
 * KEYS: the person's scope, the global scope. ARGV[1]: `check` (count only if Redis holds both scopes, else
 * answer `{'cold', …}` with the scopes it lacks, 1 and/or 2, and count nothing) or `count`; then
 * feature/value pairs.
 */
const LEARN = new LuaScript(`${COUNTING}
if ARGV[1] == 'check' then
  local lacking = cold(KEYS[1], KEYS[2])
  if #lacking > 0 then return {'cold', unpack(lacking)} end
end
return count(KEYS[1], KEYS[2], {unpack(ARGV, 2)})`);

/**
 * A login held for learning (JSON `{accountId, features, …}` at KEYS[1], written when it was assessed), counted
 * and consumed in one script (issue #14: it was a GETDEL, then LEARN). KEYS[2] the person's scope, KEYS[3] the
 * global scope; ARGV[1] `check` or `count` (as LEARN), ARGV[2] the person the caller expects. Answers `{'gone'}`
 * (nothing held: consumed already, or never written), `{'other', held}` (held for another person: consumed,
 * nothing counted), `{'cold', held, 1 and/or 2}` (a scope to load first: nothing done), or `{'counted', held, firsts…}`.
 * The hash tag `{rba}` of every key: one Cluster slot.
 */
const LEARN_HELD = new LuaScript(`${COUNTING}
local raw = redis.call('GET', KEYS[1])
if not raw then return {'gone'} end
local held = cjson.decode(raw)
if held.accountId ~= ARGV[2] then
  redis.call('DEL', KEYS[1])
  return {'other', raw}
end
if ARGV[1] == 'check' then
  local lacking = cold(KEYS[2], KEYS[3])
  if #lacking > 0 then return {'cold', raw, unpack(lacking)} end
end
redis.call('DEL', KEYS[1])
local flat = {}
for feature, value in pairs(held.features) do
  table.insert(flat, feature)
  table.insert(flat, value)
end
local out = count(KEYS[2], KEYS[3], flat)
return {'counted', raw, unpack(out)}`);

/**
 * KEYS[1]: a scope; ARGV: field/count pairs from PostgreSQL. Each field is set only where Redis holds none: another
 * instance may have loaded the scope and counted a login in Redis, not yet in PostgreSQL, while this load read
 * PostgreSQL — a plain HSET lowered that count.
 */
const FILL = new LuaScript(`
for i = 1, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1`);

/**
 * KEYS[1]: a scope PostgreSQL holds nothing of; ARGV[1]: seconds. Marks it held (`t` 0) where Redis holds no
 * count, with a TTL: a mark no login counts (the login refused, abandoned) does not stay forever. LEARN removes
 * the TTL when it counts the scope (counts have none).
 */
const MARK = new LuaScript(`
if redis.call('HSETNX', KEYS[1], 't', '0') == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 1`);

/**
 * How long the mark of an empty scope lives: it only spares the login's count a second query of PostgreSQL
 * (its read marks, its count uses the mark), so it needs to outlive one login — an hour is far beyond any
 * login's interaction. Correctness never depends on it: a scope without its mark is loaded again.
 */
const MARK_TTL_SECONDS = 3600;

/**
 * KEYS: the scopes; ARGV: the fields asked. Answers, per scope, {1 when Redis holds it else 0, its values}:
 * one command for every scope of a read (it was an EXISTS and an HMGET per scope: four for a person and everyone).
 */
const READ = new LuaScript(`
local out = {}
for i = 1, #KEYS do
  local values = redis.call('HMGET', KEYS[i], unpack(ARGV))
  table.insert(values, 1, redis.call('EXISTS', KEYS[i]))
  out[i] = values
end
return out`);

/** A scope's hash. LEARN counts a person and everyone in one script: every scope shares the hash tag {rba}. */
function scopeKey(scope: string): string {
  return `rba:{rba}:${scope}`;
}

/**
 * KEYS[1]: the global scope; ARGV: field/count pairs the retention job purged from PostgreSQL. Each field Redis
 * still holds at that same count is removed, and its feature's distinct count (`d:<feature>`) lowered by one
 * (never under 0). A field whose count differs (a login counted it since, its write-behind not yet in
 * PostgreSQL) stays; a field already gone (a run that died before its commit, repeated) lowers nothing; a global
 * hash Redis does not hold (restart, eviction: loaded from PostgreSQL at the next read) is not created. The global
 * hash has no TTL (a field's own expiry needs Redis 7.4): without this it kept every value ever seen.
 */
const FORGET = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local removed = 0
for i = 1, #ARGV, 2 do
  local field = ARGV[i]
  if redis.call('HGET', KEYS[1], field) == ARGV[i + 1] and redis.call('HDEL', KEYS[1], field) == 1 then
    removed = removed + 1
    local feature = string.match(field, '^c:(.*):[^:]*$')
    if feature and redis.call('HINCRBY', KEYS[1], 'd:' .. feature, -1) < 0 then
      redis.call('HSET', KEYS[1], 'd:' .. feature, 0)
    end
  end
end
return removed`);

/** The distinct count each purged global field `c:<feature>:<value hash>` held a place in: `d:<feature>` → n. */
export function distinctLowered(fields: readonly string[]): Map<string, number> {
  const lowered = new Map<string, number>();
  for (const field of fields) {
    const last = field.lastIndexOf(':');
    if (!field.startsWith('c:') || last <= 2) continue;
    const distinct = `d:${field.slice(2, last)}`;
    lowered.set(distinct, (lowered.get(distinct) ?? 0) + 1);
  }
  return lowered;
}

/**
 * Removes from Redis's global counts the fields the retention job purged from PostgreSQL (`purged`: field and the
 * count PostgreSQL held, at most a few thousand per call), as FORGET says. Returns the fields removed.
 *
 * @example
 * await forgetGlobalFields(redis, [{ field: 'c:ip:AbC…', count: '3' }]);
 */
export async function forgetGlobalFields(
  redis: Redis,
  purged: ReadonlyArray<{ field: string; count: string }>,
): Promise<number> {
  if (purged.length === 0) return 0;
  return (await FORGET.run(
    redis,
    [scopeKey(GLOBAL_SCOPE)],
    purged.flatMap((p) => [p.field, p.count]),
  )) as number;
}

class FieldCounts implements Counts {
  readonly total: number;
  readonly #values: Map<string, number>;
  constructor(values: Map<string, number>) {
    this.#values = values;
    this.total = values.get('t') ?? 0;
  }
  count(feature: string, value: string): number {
    return this.#values.get(`c:${feature}:${value}`) ?? 0;
  }
  distinct(feature: string): number {
    return this.#values.get(`d:${feature}`) ?? 0;
  }
}

// Named (store/prepared.ts): parsed and planned once per connection, not at every login.
const LOAD_SCOPE = prepared('rba_load_scope', 'select field, count::text as count from rba_counts where scope = $1');
// The counts of concurrent logins go together (store/counter-batch.ts: summed per row, in key order).
const COUNT_LOGINS = prepared(
  'rba_count_logins',
  `insert into rba_counts (scope, field, count) select s, f, c from unnest($1::text[], $2::text[], $3::bigint[]) as u(s, f, c)
   on conflict (scope, field) do update set count = rba_counts.count + excluded.count, updated_at = now()`,
);
export class RbaStore {
  readonly #redis: Redis;
  readonly #pool: Pool | undefined;
  readonly #onError: (error: unknown) => void;
  /** The write-behind of the counts to PostgreSQL, concurrent logins' together. */
  readonly #counts: CounterBatch | undefined;

  constructor(redis: Redis, pool?: Pool, onError: (error: unknown) => void = () => undefined) {
    this.#redis = redis;
    this.#pool = pool;
    this.#onError = onError;
    this.#counts = pool
      ? new CounterBatch(2, async ([scopes, fields], counts) => {
          await pool.query(COUNT_LOGINS.with([scopes, fields, counts]));
        })
      : undefined;
  }

  #key(scope: string): string {
    return scopeKey(scope);
  }

  /**
   * Loads a scope Redis does not hold from PostgreSQL; true when PostgreSQL held any count of it. A scope
   * PostgreSQL holds nothing of (a person's first login) is marked held in Redis (`t` 0, only where Redis still
   * holds nothing: HSETNX never lowers a count another login made meanwhile; for {@link MARK_TTL_SECONDS}), so the login's `learn` counts it
   * in one script without asking PostgreSQL again (issue #14: it asked twice). Not awaited: the read does not
   * need it, and Redis runs it before any later command of this connection; lost, the next use loads again.
   */
  async #load(scope: string): Promise<boolean> {
    if (!this.#pool) return false;
    const { rows } = await this.#pool.query<{ field: string; count: string }>(LOAD_SCOPE.with([scope]));
    if (rows.length === 0) {
      MARK.run(this.#redis, [this.#key(scope)], [String(MARK_TTL_SECONDS)]).catch(this.#onError);
      return false;
    }
    await FILL.run(
      this.#redis,
      [this.#key(scope)],
      rows.flatMap((r) => [r.field, r.count]),
    );
    return true;
  }

  /** One command (a script over one hash tag: one Cluster slot): per scope, whether Redis holds it and the fields asked. */
  async #hmget(scopes: readonly string[], fields: readonly string[]): Promise<Array<[boolean, Array<string | null>]>> {
    const answers = (await READ.run(
      this.#redis,
      scopes.map((scope) => this.#key(scope)),
      fields,
    )) as Array<[number, ...Array<string | null>]>;
    return answers.map(([held, ...values]) => [held === 1, values]);
  }

  /**
   * The counts of a scope for the given values (sub-feature → value hash), and the number of people.
   *
   * @example
   * const [mine, all, users] = await store.read([accountId, GLOBAL_SCOPE], x);
   */
  async read(
    scopes: readonly string[],
    x: Readonly<Record<string, string>>,
  ): Promise<{ counts: Counts[]; users: number }> {
    const fields = ['t', 'u'];
    for (const [feature, value] of Object.entries(x)) fields.push(`c:${feature}:${value}`, `d:${feature}`);
    // the common case is one round trip: Redis holds every scope. A scope it does not hold is loaded from
    // PostgreSQL, and read again when PostgreSQL had counts of it.
    let answers = await this.#hmget(scopes, fields);
    const loaded = await Promise.all(answers.map(([held], i) => (held ? false : this.#load(scopes[i]!))));
    if (loaded.includes(true)) answers = await this.#hmget(scopes, fields);
    let users = 0;
    const counts = answers.map(([, values], i) => {
      const map = new Map<string, number>();
      values.forEach((v, j) => {
        if (v !== null) map.set(fields[j]!, Number(v));
      });
      if (scopes[i] === GLOBAL_SCOPE) users = map.get('u') ?? 0;
      return new FieldCounts(map);
    });
    return { counts, users };
  }

  /** Counts one login of a person (after it was allowed: attacks do not become history). */
  async learn(scope: string, x: Readonly<Record<string, string>>): Promise<void> {
    const keys = [this.#key(scope), this.#key(GLOBAL_SCOPE)];
    const args = Object.entries(x).flat();
    // one round trip when Redis holds both scopes: the script checks, and counts only then. A scope it lacks
    // is loaded from PostgreSQL first (counting before would lose the durable counts), then counted.
    let firsts = (await LEARN.run(this.#redis, keys, [this.#pool ? 'check' : 'count', ...args])) as string[];
    if (firsts[0] === 'cold') {
      await this.#loadCold(scope, firsts.slice(1));
      firsts = (await LEARN.run(this.#redis, keys, ['count', ...args])) as string[];
    }
    this.#writeBehind(scope, x, firsts);
  }

  /** The Redis key of a login held for learning (in the slot of the counts: {@link learnHeld} is one script). */
  heldKey(loginId: string): string {
    return `risk:learn:{rba}:${loginId}`;
  }

  /**
   * Counts the login held at {@link heldKey} (JSON `{accountId, features, …}`) for the person `accountId` and
   * consumes it: one round trip when Redis holds the person's and everyone's counts, as {@link learn}. Answers
   * the held JSON (the caller reads the rest of it), or null when nothing was held (consumed already: a login
   * is counted once). Held for another person than the one the login completed for (a step-up answered as
   * someone else, whose own assessment was not recorded), it is consumed and counted for nobody: what was seen in
   * one person's unfinished login never becomes their history (an attacker's device, address and behaviour
   * counted as the victim's).
   */
  async learnHeld(loginId: string, accountId: string): Promise<string | null> {
    const run = (mode: string, account: string) =>
      LEARN_HELD.run(
        this.#redis,
        [this.heldKey(loginId), this.#key(`acct:${account}`), this.#key(GLOBAL_SCOPE)],
        [mode, account],
      ) as Promise<string[]>;
    const account = accountId;
    let answer = await run(this.#pool ? 'check' : 'count', account);
    if (answer[0] === 'cold') {
      await this.#loadCold(`acct:${account}`, answer.slice(2));
      answer = await run('count', account);
    }
    if (answer[0] !== 'counted') return null;
    const held = answer[1]!;
    this.#writeBehind(
      `acct:${account}`,
      (JSON.parse(held) as { features: Record<string, string> }).features,
      answer.slice(2),
    );
    return held;
  }

  /** Loads the scopes a counting script found missing (`1`: the person's, `2`: everyone's) from PostgreSQL. */
  async #loadCold(scope: string, which: readonly string[]): Promise<void> {
    const scopes = [scope, GLOBAL_SCOPE];
    await Promise.all(which.map((w) => this.#load(scopes[Number(w) - 1]!)));
  }

  /** The same increments, written behind to PostgreSQL (concurrent logins' together). */
  #writeBehind(scope: string, x: Readonly<Record<string, string>>, firsts: readonly string[]): void {
    if (!this.#pool) return;
    const rows: Array<[string, string]> = [
      [scope, 't'],
      [GLOBAL_SCOPE, 't'],
    ];
    for (const [feature, value] of Object.entries(x))
      rows.push([scope, `c:${feature}:${value}`], [GLOBAL_SCOPE, `c:${feature}:${value}`]);
    for (const first of firsts) {
      if (first === 'u') rows.push([GLOBAL_SCOPE, 'u']);
      else if (first.startsWith('du:')) rows.push([scope, `d:${first.slice(3)}`]);
      else rows.push([GLOBAL_SCOPE, `d:${first.slice(3)}`]);
    }
    this.#counts!.add(rows).catch(this.#onError);
  }
}
