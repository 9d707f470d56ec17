/**
 * The two-tier session store: Redis (hot, `hot-tier.ts`) in front of PostgreSQL (durable, `durable-tier.ts`),
 * every payload sealed (`record-cipher.ts`), every key hashed (`record-keys.ts`).
 *
 * - write: PostgreSQL first (the durable copy), then Redis; a Redis failure loses nothing.
 * - read: Redis → on a miss (or Redis unavailable) PostgreSQL → Redis re-warmed in the background. Each
 *   read is logged with `source: cache|db` and counted (`gateway_session_reads_total{kind,source}`: the
 *   cache hit ratio is `cache / (cache + db)`).
 * - a record that is not `active` is returned with its state; callers decide (a revoked session answers
 *   no request, see `oidc-models.ts`).
 */
import type { Logger } from 'pino';
import type { DurableTier, RecordKind, StoredRecord } from './durable-tier.ts';
import type { HotTier } from './hot-tier.ts';
import type { RecordCipher } from './record-cipher.ts';
import type { RecordKeys } from './record-keys.ts';
import { forget, memoised, remember } from './request-memo.ts';

/** The request memo's entry of a record (`request-memo.ts`). */
const memoKey = (kind: RecordKind, recordKey: Buffer) => `s2:${kind}:${recordKey.toString('hex')}`;

/** The few counters the store reports (gateway/observability's registry in the gateway). */
export interface SessionMetrics {
  read(kind: RecordKind, source: 'cache' | 'db' | 'miss'): void;
  refused(code: string): void;
  revoked(scope: string, count: number): void;
}

export interface PutInput {
  kind: RecordKind;
  id: string;
  payload: unknown;
  expiresIn: number;
  /** Sessions: the cookie id (oidc-provider's jti). */
  lookupId?: string;
  /** Sessions: every per-RP sid. */
  sids?: readonly string[];
  grantId?: string;
  accountId?: string;
  idp?: string;
  /** Tokens: the version of their session when issued. */
  version?: number;
}

export interface Loaded<T> {
  record: StoredRecord;
  payload: T;
}

export class SessionStore {
  readonly keys: RecordKeys;
  readonly hot: HotTier;
  readonly durable: DurableTier;
  readonly #cipher: RecordCipher;
  readonly #logger: Logger;
  readonly #metrics: SessionMetrics;

  constructor(deps: {
    keys: RecordKeys;
    hot: HotTier;
    durable: DurableTier;
    cipher: RecordCipher;
    logger: Logger;
    metrics: SessionMetrics;
  }) {
    this.keys = deps.keys;
    this.hot = deps.hot;
    this.durable = deps.durable;
    this.#cipher = deps.cipher;
    this.#logger = deps.logger;
    this.#metrics = deps.metrics;
  }

  /** Seals and stores a record in both tiers; returns it as stored (a revoked session stays revoked). */
  async put(input: PutInput): Promise<StoredRecord> {
    const [stored] = await this.putMany([input]);
    return stored!;
  }

  /**
   * Seals and stores several records in both tiers: PostgreSQL first, all of them in one round trip and one
   * transaction (`DurableTier.putMany`), then Redis. Returns them as stored, in the order given.
   */
  async putMany(inputs: readonly PutInput[]): Promise<StoredRecord[]> {
    const records = await Promise.all(inputs.map((input) => this.#sealed(input)));
    // in a holdWrites scope, records other than sessions are written with the scope's others, then to Redis
    const held = this.durable.hold(records);
    const stored = held ? records : await this.durable.putMany(records);
    for (const record of stored) remember(memoKey(record.kind, record.recordKey), record);
    if (!held) await this.#warm(stored);
    return stored;
  }

  /**
   * Runs `work` (one request's step) with the writes of records other than sessions written together, in
   * one round trip and one transaction, when it ends or before any other PostgreSQL operation of the store
   * within it (`DurableTier.holdWrites`); each then to Redis, as {@link putMany} does.
   */
  holdWrites<T>(work: () => Promise<T>): Promise<T> {
    return this.durable.holdWrites(work, (stored) => this.#warm(stored));
  }

  /** Redis after PostgreSQL: a Redis failure loses nothing (the read path falls back). */
  async #warm(stored: readonly StoredRecord[]): Promise<void> {
    const written = await Promise.all(stored.map((record) => this.hot.put(record)));
    written.forEach((result, i) => {
      if (result !== true)
        this.#logger.warn({ kind: stored[i]!.kind }, 'session store: Redis unavailable, written to PostgreSQL only');
    });
  }

  async #sealed(input: PutInput): Promise<StoredRecord> {
    const recordKey = this.keys.key(input.kind, input.id);
    const { sealed, dekVersion } = await this.#cipher.seal(recordKey, Buffer.from(JSON.stringify(input.payload)));
    const now = new Date();
    return {
      recordKey,
      kind: input.kind,
      lookupKey: input.lookupId ? this.keys.key('jti', input.lookupId) : null,
      sidKeys: (input.sids ?? []).map((sid) => this.keys.key('sid', sid)),
      grantKey: input.grantId ? this.keys.key('Grant', input.grantId) : null,
      accountKey: input.accountId ? this.keys.key('account', input.accountId) : null,
      idp: input.idp ?? null,
      version: input.version ?? 1,
      state: 'active',
      dekVersion,
      sealed,
      createdAt: now,
      expiresAt: new Date(now.getTime() + input.expiresIn * 1000),
    };
  }

  /** The record by kind and id, through the read path. */
  get<T>(kind: RecordKind, id: string): Promise<Loaded<T> | null> {
    return this.load<T>(kind, this.keys.key(kind, id));
  }

  /** The record by key, through the read path. */
  async load<T>(kind: RecordKind, recordKey: Buffer): Promise<Loaded<T> | null> {
    const record = await this.record(kind, recordKey);
    if (!record) return null;
    return { record, payload: JSON.parse((await this.#cipher.open(recordKey, record.sealed)).toString('utf8')) as T };
  }

  /**
   * The stored record (payload still sealed): Redis, else PostgreSQL and Redis re-warmed. Read once per
   * request (`request-memo.ts`).
   */
  record(kind: RecordKind, recordKey: Buffer): Promise<StoredRecord | null> {
    return memoised(memoKey(kind, recordKey), () => this.#record(kind, recordKey));
  }

  async #record(kind: RecordKind, recordKey: Buffer): Promise<StoredRecord | null> {
    const held = this.durable.heldRecord(recordKey);
    if (held) return held.kind === kind ? held : null;
    const cached = await this.hot.get(recordKey);
    if (cached !== 'unavailable' && cached !== null && cached.kind === kind) {
      this.#read(kind, 'cache');
      return cached;
    }
    const stored = await this.durable.get(recordKey);
    if (!stored || stored.kind !== kind) {
      this.#read(kind, 'miss');
      return null;
    }
    this.#read(kind, 'db');
    void this.hot.put(stored);
    return stored;
  }

  /** A session by its cookie id or by one of its sids. */
  async findSession<T>(by: 'lookup' | 'sid', id: string): Promise<Loaded<T> | null> {
    const key = this.keys.key(by === 'lookup' ? 'jti' : 'sid', id);
    const pointer = await this.hot.pointer(by, key);
    if (pointer !== 'unavailable' && pointer !== null) {
      const loaded = await this.load<T>('Session', pointer);
      if (
        loaded &&
        (by === 'sid' ? loaded.record.sidKeys.some((k) => k.equals(key)) : loaded.record.lookupKey?.equals(key))
      )
        return loaded;
    }
    const stored = await this.durable.findSession(by, key);
    if (!stored) {
      this.#read('Session', 'miss');
      return null;
    }
    this.#read('Session', 'db');
    void this.hot.put(stored);
    return {
      record: stored,
      payload: JSON.parse((await this.#cipher.open(stored.recordKey, stored.sealed)).toString('utf8')) as T,
    };
  }

  /** Single use (PostgreSQL decides, atomically): true for the one caller that consumed the record. */
  async consume(kind: RecordKind, id: string): Promise<boolean> {
    forget();
    const ended = await this.durable.consume(this.keys.key(kind, id));
    if (!ended) return false;
    if ((await this.hot.put(ended)) !== true)
      this.#logger.warn({ kind }, 'session store: Redis unavailable, consumption written to PostgreSQL only');
    return true;
  }

  /** Soft-deletes records in PostgreSQL and removes them from Redis. */
  async end(recordKeys: readonly Buffer[], lookups: readonly Buffer[] = []): Promise<void> {
    forget();
    await this.durable.end(recordKeys);
    await this.hot.delete(recordKeys, lookups);
  }

  #read(kind: RecordKind, source: 'cache' | 'db' | 'miss'): void {
    this.#metrics.read(kind, source);
    this.#logger.debug({ kind, source }, 'session store read');
  }
}
