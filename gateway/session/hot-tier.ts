/**
 * The hot tier: one Redis hash per record (`s2:<record key>`, TTL = the record's remaining life), plus
 * `s2j:<cookie key>` and `s2s:<sid key>` pointing at a session's record. Holds the same sealed payload as
 * PostgreSQL, never a payload in clear.
 *
 * - Every call is bounded (`timeoutMs`): a slow or absent Redis is "unavailable", and the caller falls
 *   back to PostgreSQL; the hot tier is never the only copy of anything.
 * - A pointer is only a shortcut: the reader checks that the record it leads to names the cookie id or sid
 *   it was looked up by, and a pointer to a record Redis no longer holds leads to PostgreSQL. So pointers are
 *   written to outlive their record (twice its remaining life, the record's `pu` field says until when), and
 *   a session saved again (oidc-provider saves it at the end of every request that read it, with a later
 *   expiry) rewrites only the pointers its previous state (read in the same request) did not have, or all of
 *   them once the record would outlive them: an SSO request wrote two pointers for nothing (issue #14).
 * - An end replaces the record by an end mark for {@link END_MARK_SECONDS} (read as a miss). A reader that found
 *   the record in PostgreSQL writes it back only where no end mark, and no copy of the same version, is
 *   ({@link HotTier.rewarm}); a write (PostgreSQL first, then Redis) replaces the mark, unless it is a grant's or a
 *   token's (never written again once ended).
 */
import type { Redis } from 'ioredis';
import { LuaScript } from '../store/lua-script.ts';
import type { RecordKind, RecordState, StoredRecord } from './durable-tier.ts';
import { ENDED_FOR_GOOD } from './stored-record.ts';

export type Unavailable = 'unavailable';

/** A record as the hot tier holds it: with, for a session, until when (epoch ms) its pointers live (0: unknown). */
export type HotRecord = StoredRecord & { pointersUntil?: number };

/** Writes KEYS[1] unless Redis holds a newer version, or the same one revoked. ARGV: version, state, ttl, fields. */
const WRITE_UNLESS_NEWER = `
local held = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local version = tonumber(ARGV[1])
if held > version then return 0 end
if held == version and redis.call('HGET', KEYS[1], 'st') == 'revoked' and ARGV[2] ~= 'revoked' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`;
/** KEYS[1] record; ARGV: version, state, ttl, then field/value pairs. */
const PUT_UNLESS_NEWER = new LuaScript(WRITE_UNLESS_NEWER);
/**
 * The write of a record never opened again once ended ({@link ENDED_FOR_GOOD}): as {@link PUT_UNLESS_NEWER}, but never
 * over an end mark. A write PostgreSQL took before an end, reaching Redis after that end's mark, would make the ended
 * grant or token current again in Redis for its whole life (PostgreSQL refuses such a write once the end landed:
 * migration 0830).
 */
const PUT_UNLESS_ENDED = new LuaScript(`
if redis.call('HEXISTS', KEYS[1], 'x') == 1 then return 0 end
${WRITE_UNLESS_NEWER}`);
/**
 * A re-warm (a record read from PostgreSQL, written back to Redis): KEYS[1] record; ARGV as {@link PUT_UNLESS_NEWER}.
 * Never over an end mark (`x`: the record was ended after the read may have been made) nor over a copy Redis
 * holds at the same version or newer (written since the read missed: the read's copy is no newer).
 */
const REWARM = new LuaScript(`
if redis.call('HEXISTS', KEYS[1], 'x') == 1 then return 0 end
if redis.call('HEXISTS', KEYS[1], 's') == 1 and tonumber(redis.call('HGET', KEYS[1], 'v') or '0') >= tonumber(ARGV[1]) then return 0 end
${WRITE_UNLESS_NEWER}`);
/**
 * An end: KEYS[1] record; ARGV: the mark's life (a revoked record, or a revocation's version-only entry, keeps
 * its own when longer: the guard lasts as long as the record would have).
 * The record is replaced by an end mark (no payload: read as a miss) keeping its version and state (a revocation's
 * guard against older writes stays), which a re-warm does not overwrite and a write (a legitimate reopen,
 * PostgreSQL first) does.
 */
const END_MARK = new LuaScript(`
local version = redis.call('HGET', KEYS[1], 'v')
local state = redis.call('HGET', KEYS[1], 'st')
local ttl = tonumber(ARGV[1])
if redis.call('HEXISTS', KEYS[1], 's') == 0 or state == 'revoked' then ttl = math.max(redis.call('TTL', KEYS[1]), ttl) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'x', '1')
if version then redis.call('HSET', KEYS[1], 'v', version, 'st', state or 'active') end
redis.call('EXPIRE', KEYS[1], ttl)
return 1
`);
/**
 * An eviction: KEYS[1] record. Its copy is replaced by a version-only entry (its version and state, its TTL: the
 * guard against older writes stays, a reader's write-back of the current row goes through); an end mark or a
 * version-only entry (no copy) is left as it is.
 */
const EVICT = new LuaScript(`
if redis.call('HEXISTS', KEYS[1], 's') == 0 then return 0 end
local version = redis.call('HGET', KEYS[1], 'v')
local state = redis.call('HGET', KEYS[1], 'st')
local ttl = redis.call('TTL', KEYS[1])
redis.call('DEL', KEYS[1])
if version then
  redis.call('HSET', KEYS[1], 'v', version, 'st', state or 'active')
  if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) else redis.call('EXPIRE', KEYS[1], 60) end
end
return 1
`);
/**
 * How long an end mark lives, seconds: longer than a re-warm's read of PostgreSQL and its write to Redis can take
 * (the race it closes is that window), short enough that the marks of a logout wave cost little memory.
 */
export const END_MARK_SECONDS = 60;
/**
 * A revocation: KEYS[1] record; ARGV: version, state, ttl (the record's remaining life, at least). Over an end mark
 * it takes the mark's place: the new version already refuses every older write, and a re-warm of the revoked row
 * is then cached (readers of a revoked session are not sent to PostgreSQL for its whole life).
 */
const SET_STATE = new LuaScript(`
local held = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if held > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'st', ARGV[2])
redis.call('HDEL', KEYS[1], 'x')
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return 1
`);

const STATES: ReadonlySet<string> = new Set(['active', 'revoked', 'ended']);
// every kind the durable tier holds (an `UpstreamSession` missing here was read from PostgreSQL every time)
const KINDS: ReadonlySet<string> = new Set<RecordKind>([
  'Session',
  'Grant',
  'AccessToken',
  'RefreshToken',
  'Identity',
  'UpstreamSession',
]);

const recordName = (key: Buffer | string) => `s2:${typeof key === 'string' ? key : key.toString('hex')}`;
const pointerName = (by: 'lookup' | 'sid', key: Buffer) => `${by === 'lookup' ? 's2j' : 's2s'}:${key.toString('hex')}`;
const hexOrEmpty = (b: Buffer | null) => (b ? b.toString('hex') : '');
const bufferOrNull = (s: string | undefined) => (s ? Buffer.from(s, 'hex') : null);

function ttlOf(record: StoredRecord): number {
  return Math.max(1, Math.ceil((record.expiresAt.getTime() - Date.now()) / 1000));
}

export class HotTier {
  readonly #redis: Redis;
  readonly #timeoutMs: number;

  constructor(redis: Redis, timeoutMs: number) {
    this.#redis = redis;
    this.#timeoutMs = timeoutMs;
  }

  async #bounded<T>(work: () => Promise<T>): Promise<T | Unavailable> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        work(),
        new Promise<Unavailable>((resolve) => {
          timer = setTimeout(() => resolve('unavailable'), this.#timeoutMs);
        }),
      ]);
    } catch {
      return 'unavailable';
    } finally {
      clearTimeout(timer);
    }
  }

  /** The record, `null` when Redis does not hold it. */
  get(recordKey: Buffer): Promise<HotRecord | null | Unavailable> {
    return this.#bounded(async () => {
      const h = await this.#redis.hgetall(recordName(recordKey));
      if (!h || !h.s) return null;
      // anything this code did not write is no answer: the reader goes to PostgreSQL
      if (!STATES.has(h.st ?? '') || !KINDS.has(h.k ?? '') || !(Number(h.v) > 0)) return 'unavailable' as const;
      return {
        recordKey,
        kind: h.k as RecordKind,
        lookupKey: bufferOrNull(h.j),
        sidKeys: h.sids ? h.sids.split(',').map((s) => Buffer.from(s, 'hex')) : [],
        grantKey: bufferOrNull(h.g),
        accountKey: bufferOrNull(h.a),
        idp: h.i || null,
        version: Number(h.v),
        state: h.st as RecordState,
        dekVersion: Number(h.d),
        sealed: h.s,
        createdAt: new Date(Number(h.c)),
        expiresAt: new Date(Number(h.e)),
        pointersUntil: Number(h.pu) || 0, // absent in what the code before it wrote: pointers written again
      };
    });
  }

  /** The record key a session cookie or sid points at. */
  pointer(by: 'lookup' | 'sid', key: Buffer): Promise<Buffer | null | Unavailable> {
    return this.#bounded(async () => bufferOrNull((await this.#redis.get(pointerName(by, key))) ?? undefined));
  }

  /**
   * Writes a record (and its pointers) with its remaining life as TTL, unless Redis holds a newer version
   * of it or the same version revoked (a late write — a re-warm read before a revocation — never undoes it).
   * `previous`: the record as this request read it, if it did; its pointers that still outlive the record
   * are not written again. A grant or token is never written over an end mark ({@link ENDED_FOR_GOOD}).
   */
  put(record: StoredRecord, previous?: HotRecord | null): Promise<true | Unavailable> {
    return this.#write(ENDED_FOR_GOOD.has(record.kind) ? PUT_UNLESS_ENDED : PUT_UNLESS_NEWER, record, previous);
  }

  /**
   * Writes back a record a reader found in PostgreSQL only (its pointers too), unless it was ended since
   * ({@link delete}'s end mark: a read of PostgreSQL just before an end, written back just after it, made the
   * ended record current again in Redis until it expired) or Redis holds it at the same version or newer.
   */
  rewarm(record: StoredRecord): Promise<true | Unavailable> {
    return this.#write(REWARM, record, null);
  }

  #write(script: LuaScript, record: StoredRecord, previous?: HotRecord | null): Promise<true | Unavailable> {
    return this.#bounded(async () => {
      const ttl = ttlOf(record);
      const pointers: Array<['lookup' | 'sid', Buffer]> = [
        ...(record.lookupKey ? [['lookup', record.lookupKey] as ['lookup', Buffer]] : []),
        ...record.sidKeys.map((sid) => ['sid', sid] as ['sid', Buffer]),
      ];
      let until = 0;
      let toWrite = pointers;
      if (pointers.length > 0) {
        const held = previous?.recordKey.equals(record.recordKey) ? (previous.pointersUntil ?? 0) : 0;
        if (held >= record.expiresAt.getTime()) {
          until = held;
          toWrite = pointers.filter(([by, key]) =>
            by === 'lookup' ? !previous!.lookupKey?.equals(key) : !previous!.sidKeys.some((s) => s.equals(key)),
          );
        } else {
          until = record.expiresAt.getTime() + ttl * 1000;
        }
      }
      const fields = {
        k: record.kind,
        s: record.sealed,
        v: record.version,
        st: record.state,
        d: record.dekVersion,
        c: record.createdAt.getTime(),
        e: record.expiresAt.getTime(),
        j: hexOrEmpty(record.lookupKey),
        sids: record.sidKeys.map((k) => k.toString('hex')).join(','),
        g: hexOrEmpty(record.grantKey),
        a: hexOrEmpty(record.accountKey),
        i: record.idp ?? '',
        ...(until > 0 ? { pu: until } : {}),
      };
      // one command per key (auto-pipelined: one write on one server), no MULTI: on Redis Cluster the record
      // and its pointers are in different slots; a pointer to a record not (yet) written reads as a miss
      const writes: Array<Promise<unknown>> = [
        script.run(
          this.#redis,
          [recordName(record.recordKey)],
          [record.version, record.state, ttl, ...Object.entries(fields).flat().map(String)],
        ),
      ];
      const pointerTtl = Math.max(1, Math.ceil((until - Date.now()) / 1000));
      for (const [by, key] of toWrite)
        writes.push(this.#redis.set(pointerName(by, key), record.recordKey.toString('hex'), 'EX', pointerTtl));
      await Promise.all(writes);
      return true as const;
    });
  }

  /**
   * Sets version and state of records (a revocation), also of records Redis does not hold (a version-only
   * entry, read as a miss: the reader goes to PostgreSQL, and no late write of an older version lands).
   */
  setState(records: readonly StoredRecord[]): Promise<true | Unavailable> {
    return this.#bounded(async () => {
      // one script per record (each its own slot on Redis Cluster), auto-pipelined
      await Promise.all(
        records.map((r) => SET_STATE.run(this.#redis, [recordName(r.recordKey)], [r.version, r.state, ttlOf(r)])),
      );
      return true as const;
    });
  }

  /** Ends records (each replaced by an end mark, {@link END_MARK_SECONDS}) and deletes a session's cookie pointer. */
  delete(recordKeys: readonly Buffer[], pointers: readonly Buffer[] = []): Promise<true | Unavailable> {
    if (recordKeys.length === 0 && pointers.length === 0) return Promise.resolve(true);
    return this.#bounded(async () => {
      await Promise.all([
        ...recordKeys.map((key) => END_MARK.run(this.#redis, [recordName(key)], [END_MARK_SECONDS])),
        ...pointers.map((p) => this.#redis.del(pointerName('lookup', p))),
      ]);
      return true as const;
    });
  }

  /**
   * Replaces the copies Redis holds of records whose last write reached PostgreSQL only (they may be older) by
   * version-only entries: no end mark, so the next reader writes the current row back; the guard against older
   * writes stays. Answers the keys Redis took (on Redis Cluster a node may be down while the others answer).
   */
  evict(recordKeys: readonly Buffer[]): Promise<Buffer[] | Unavailable> {
    if (recordKeys.length === 0) return Promise.resolve([]);
    return this.#bounded(async () => {
      const done = await Promise.allSettled(recordKeys.map((key) => EVICT.run(this.#redis, [recordName(key)], [])));
      return recordKeys.filter((_, i) => done[i]!.status === 'fulfilled');
    });
  }

  /** Bytes Redis uses for a record's hash (`MEMORY USAGE`), for measurements. */
  async memoryUsage(recordKey: Buffer): Promise<number | null> {
    return (await this.#redis.memory('USAGE', recordName(recordKey))) as number | null;
  }
}
