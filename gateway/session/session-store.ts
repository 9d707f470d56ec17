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
import type { DurableTier, Queryable, RecordKind, StoredRecord } from './durable-tier.ts';
import type { HotRecord, HotTier } from './hot-tier.ts';
import type { RecordCipher } from './record-cipher.ts';
import type { RecordKeys } from './record-keys.ts';
import { forget, inRequest, memoised, peek, remember, sessionEndedHere } from './request-memo.ts';
import { endedMemoKey, memoKey, MEMO_KINDS as KINDS, pointerMemoKey } from './request-memo.ts';
import { RecordPayloads } from './record-payloads.ts';
import { PendingHotEnds } from './pending-hot-ends.ts';
import type { HotEndsLedger } from './hot-ends-ledger.ts';
import { noteSessionRead, noteSessionStored, sessionBase } from './session-base.ts';
import { closedMeanwhile } from './session-closed-meanwhile.ts';
import { evictAfterMergeMs, SessionSaveMerger } from './session-save-merger.ts';
import type { SessionPayload } from './session-merge.ts';
import { savedUnchanged } from './saved-again.ts';
import type { KnownRevocations, Loaded, PutInput, SessionMetrics } from './session-store-types.ts';

export type { KnownRevocations, Loaded, PutInput, SessionMetrics } from './session-store-types.ts';

export { slidingTolerance } from './saved-again.ts';

export class SessionStore {
  readonly keys: RecordKeys;
  readonly hot: HotTier;
  readonly durable: DurableTier;
  readonly #logger: Logger;
  readonly #metrics: SessionMetrics;
  /** Ends that did not reach Redis, tried again ({@link retryEnds}). */
  readonly #hotEnds: PendingHotEnds;
  /** The revocations this instance already knows of (`revocation-feed.ts`), whatever Redis still says. */
  readonly #known: KnownRevocations | undefined;
  /** Records sealed for a write, and opened once per record object for a read (`record-payloads.ts`). */
  readonly #payloads: RecordPayloads;
  /** A held record's state as this request read it before writing it (its pointers then: `#previous`). */
  readonly #previousOf = new WeakMap<StoredRecord, HotRecord | null>();
  /** What each session save is made over, and its merge into another request's save (migration 0780). */
  readonly #merger: SessionSaveMerger;

  constructor(deps: {
    keys: RecordKeys;
    hot: HotTier;
    durable: DurableTier;
    cipher: RecordCipher;
    logger: Logger;
    metrics: SessionMetrics;
    known?: KnownRevocations;
    /** Redis's command timeout (ms, default 5 000): when a merged session's Redis copy is evicted again. */
    redisCommandTimeoutMs?: number;
    ledger?: HotEndsLedger; // where the ends Redis did not take are written down, for the next process
  }) {
    this.#known = deps.known;
    this.#hotEnds = new PendingHotEnds(deps.hot, deps.logger, deps.ledger);
    this.keys = deps.keys;
    this.hot = deps.hot;
    this.durable = deps.durable;
    this.#payloads = new RecordPayloads(deps.cipher, deps.keys);
    this.#logger = deps.logger;
    this.#metrics = deps.metrics;
    const evictAfter = evictAfterMergeMs(deps.redisCommandTimeoutMs ?? 5_000);
    this.#merger = new SessionSaveMerger({
      keys: deps.keys,
      cipher: deps.cipher,
      open: (record) => this.#payloads.payload(record),
      opened: (record, text) => this.#payloads.known(record, text),
      merged: (recordKey) => {
        this.#metrics.merged();
        this.#logger.info('session store: a session saved by two requests at once, merged');
        setTimeout(() => this.#hotEnds.later([recordKey]), evictAfter).unref();
      },
      lost: (recordKey, session, db) => this.#personReplaced(recordKey, session, db),
    });
    this.durable.mergeSessionsWith(this.#merger);
  }

  /** Told of each person a merge across persons replaced, before the merged save (`replaced-persons.ts`). */
  onPersonReplaced(handler: (recordKey: Buffer, session: SessionPayload, db?: Queryable) => Promise<void>): void {
    this.#personReplaced = handler;
  }

  #personReplaced: (recordKey: Buffer, session: SessionPayload, db?: Queryable) => Promise<void> = () =>
    Promise.resolve();

  /** Seals and stores a record in both tiers; returns it as stored (a revoked session stays revoked). */
  async put(input: PutInput): Promise<StoredRecord> {
    const [stored] = await this.putMany([input]);
    return stored!;
  }

  /**
   * Seals and stores several records in both tiers: PostgreSQL first, all of them in one round trip and one
   * transaction (`DurableTier.putMany`), then Redis. Returns them as stored, in the order given. A session
   * saved again unchanged but for a slightly later expiry is not written, nor a grant saved again as read
   * ({@link #unchanged}).
   */
  async putMany(inputs: readonly PutInput[]): Promise<StoredRecord[]> {
    const unchanged = await Promise.all(inputs.map((input) => this.#unchanged(input)));
    // a session saved unchanged is not written: in a holdWrites scope its current state is checked with the writes
    unchanged.forEach((same) => same?.kind === 'Session' && this.durable.holdCheck(same.recordKey));
    const toWrite = inputs.filter((_, i) => !unchanged[i]);
    const written = toWrite.length > 0 ? await this.#write(toWrite) : [];
    let next = 0;
    return unchanged.map((same) => same ?? written[next++]!);
  }

  async #write(inputs: readonly PutInput[]): Promise<StoredRecord[]> {
    const sealed = await Promise.all(inputs.map((input) => this.#payloads.seal(input)));
    // the record as this request read it (or ended it), before this write replaces it in the memo
    const previous = await Promise.all(sealed.map(({ record }) => this.#previous(record)));
    // a session keeps the version and creation time of its stored row (`session_record_put` decides): so does
    // the copy this request reads back while its write is held; one the request read revoked is written at
    // once (the answer is the revoked row)
    const records = await Promise.all(
      sealed.map(async ({ record: r, text }, i) => {
        if (r.kind !== 'Session') return r;
        const before = previous[i];
        if (before) Object.assign(r, { version: before.version, createdAt: before.createdAt });
        // its plaintext, for a merge into another request's save (none is read back: it is this very value)
        this.#payloads.known(r, text);
        // made over the session as this request read or last stored it (merged with it when that was merged)
        return this.#merger.madeOver(r, await sessionBase(r.recordKey));
      }),
    );
    const revoked = records.some((r, i) => r.kind === 'Session' && previous[i]?.state === 'revoked');
    // in a holdWrites scope, records are written with the scope's others, then to Redis
    const held = !revoked && this.durable.hold(records);
    if (held) records.forEach((r, i) => this.#previousOf.set(r, previous[i] ?? null));
    const stored = held ? records : await this.durable.putMany(records);
    stored.forEach((record, i) => {
      const { record: written, text } = sealed[i]!;
      // as written (PostgreSQL may hand back another version, e.g. a session revoked meanwhile: opened when read)
      if (record.sealed === written.sealed) this.#payloads.known(record, text);
      remember(memoKey(record.kind, record.recordKey), record);
      this.#rememberPointers(record);
    });
    if (!held) {
      stored.forEach((row, i) => noteSessionStored(this.#merger.oursOf(records[i]!), row));
      await this.#warm(stored, previous);
    }
    return stored;
  }

  /** The record as this request read it, when `input` saves it again unchanged (saved-again.ts), else null. */
  async #unchanged(input: PutInput): Promise<StoredRecord | null> {
    if (input.kind !== 'Session' && input.kind !== 'Grant') return null;
    const before = await peek<HotRecord | null>(memoKey(input.kind, this.keys.key(input.kind, input.id)))?.catch(
      () => null,
    );
    const text = before ? this.#payloads.held(before) : undefined;
    return before && text && (await savedUnchanged(input, before, text, this.keys)) ? before : null;
  }

  /**
   * Runs `work` (one request's step) with the writes and ends of records made together, the writes in one
   * round trip and one transaction, when it ends or before a PostgreSQL operation of the store within it that
   * touches them (`DurableTier.holdWrites`, held-writes.ts); each then to Redis, as {@link putMany} and
   * {@link end} do (the pointers a record had when this request read it are not written again). A session it
   * saved unchanged is checked when it ends, if `checksWanted` says so then (session-closed-meanwhile.ts).
   */
  holdWrites<T>(work: () => Promise<T>, checksWanted?: () => boolean): Promise<T> {
    return this.durable.holdWrites(
      work,
      async ({ stored, given, ended, lookups, checked }) => {
        stored.forEach((row, i) => noteSessionStored(this.#merger.oursOf(given[i]!), row));
        await this.#warm(
          stored,
          given.map((r) => this.#previousOf.get(r) ?? null),
        );
        // a cookie pointer the scope's writes name again is kept (it leads to the record just written)
        const kept = lookups.filter((l) => !stored.some((r) => r.lookupKey?.equals(l)));
        if (ended.length > 0 || kept.length > 0) await this.#hotEnds.delete(ended, kept);
        // a session another request ended or revoked meanwhile: the request fails rather than hand out its code
        const closed = closedMeanwhile(stored, given, checked);
        if (closed) throw closed;
      },
      checksWanted,
    );
  }

  /** Tries again the ends that did not reach Redis (the session tier's timer); answers how many it made. */
  retryEnds(): Promise<number> {
    return this.#hotEnds.retry();
  }

  /** Writes what the current {@link holdWrites} scope holds, now (both tiers): e.g. before a login is audited COMPLETED. */
  writeHeld(): Promise<void> {
    return this.durable.writeHeld();
  }

  /**
   * Redis after PostgreSQL: a Redis failure loses nothing (the read path falls back). A record Redis did not take
   * may still be there as it was before (the write timed out): that copy is evicted once Redis answers
   * (`pending-hot-ends.ts`; its version guard stays), so no reader takes it for current; the next reader writes
   * the current row back.
   */
  async #warm(stored: readonly StoredRecord[], previous: readonly (HotRecord | null)[]): Promise<void> {
    // a grant or token PostgreSQL refused (ended meanwhile, migration 0830) is not written: its end mark stands
    const refused = (r: StoredRecord) => r.kind !== 'Session' && r.state !== 'active';
    const written = await Promise.all(
      stored.map((record, i) => (refused(record) ? true : this.hot.put(record, previous[i] ?? null))),
    );
    const failed = stored.filter((_, i) => written[i] !== true);
    if (failed.length === 0) return;
    this.#logger.warn(
      { kinds: failed.map((r) => r.kind) },
      'session store: Redis unavailable, written to PostgreSQL only',
    );
    this.#hotEnds.later(failed.map((r) => r.recordKey));
  }

  /** The record as this request read it (or ended it), if it did: its pointers are already written (hot-tier.ts). */
  async #previous(record: StoredRecord): Promise<HotRecord | null> {
    const held = peek<HotRecord | null>(memoKey(record.kind, record.recordKey)) ?? peek(endedMemoKey(record.recordKey));
    return held ? held.catch(() => null) : null;
  }

  /**
   * The payload of the session `recordKey` as this request's own end closed it (`end`: the last write any request
   * committed before it), or null when this request's end moved nothing (another end or a revocation came first).
   * A logout compares it with the session it read: an RP another request added in between is told too.
   */
  async endedHere<T>(recordKey: Buffer): Promise<T | null> {
    const endedFrom = await sessionEndedHere(recordKey);
    if (endedFrom === undefined) return null;
    const row = await this.durable.endedRow(recordKey, endedFrom);
    return row ? this.#payloads.payload<T>(row) : null;
  }

  /** The record by kind and id, through the read path. */
  get<T>(kind: RecordKind, id: string): Promise<Loaded<T> | null> {
    return this.load<T>(kind, this.keys.key(kind, id));
  }

  /** The payload of a record already read (a revocation's rows: expired or not, no read path). */
  open<T>(record: StoredRecord): Promise<T> {
    return this.#payloads.payload<T>(record);
  }

  /** The record by key, through the read path. */
  async load<T>(kind: RecordKind, recordKey: Buffer): Promise<Loaded<T> | null> {
    const record = await this.record(kind, recordKey);
    if (!record) return null;
    return { record, payload: await this.#payloads.payload<T>(record) };
  }

  /**
   * The stored record (payload still sealed): Redis, else PostgreSQL and Redis re-warmed. Read once per
   * request (`request-memo.ts`).
   */
  async record(kind: RecordKind, recordKey: Buffer): Promise<StoredRecord | null> {
    const record = await this.#memoRecord(kind, recordKey);
    if (record) noteSessionRead(record); // what this request's saves of a session are made over
    return record;
  }

  /** {@link record}'s memoised read, noting nothing (a session found by a pointer may not be the one asked for). */
  #memoRecord(kind: RecordKind, recordKey: Buffer): Promise<StoredRecord | null> {
    return memoised(memoKey(kind, recordKey), async () => {
      const record = await this.#record(kind, recordKey);
      // a session read by its uid names its cookie id and sids: a later lookup by them in this request needs no
      // pointer read (findSession still checks that the session it finds names the key it was looked up by)
      if (record?.kind === 'Session') this.#rememberPointers(record);
      return record;
    });
  }

  /**
   * Starts this request's read of a record without waiting for it (issue #14): a caller that learns, from one
   * artefact, the records the request reads next one after the other (an authorization code names its session,
   * grant and account) asks for them together, one round trip instead of one each; {@link record} then gets
   * the memoised answer. Same read path and same answer as {@link record}, only sent earlier; a failed read is
   * not remembered. Outside a request (no memo) it does nothing.
   */
  prefetch(kind: RecordKind, id: string): void {
    if (!inRequest()) return;
    this.record(kind, this.keys.key(kind, id)).catch(() => undefined);
  }

  #rememberPointers(record: StoredRecord): void {
    if (record.lookupKey) remember(pointerMemoKey('lookup', record.lookupKey), record.recordKey);
    for (const sid of record.sidKeys) remember(pointerMemoKey('sid', sid), record.recordKey);
  }

  async #record(kind: RecordKind, recordKey: Buffer): Promise<StoredRecord | null> {
    const held = this.durable.heldRecord(recordKey);
    if (held === 'ended') return null; // ended in this request (as PostgreSQL will have it: no active row)
    if (held) return held.kind === kind ? held : null;
    const cached = await this.hot.get(recordKey);
    if (cached !== 'unavailable' && cached !== null && cached.kind === kind) {
      // Redis expires a record up to a second after its life ends (its TTL is whole seconds): not taken from
      // Redis then; PostgreSQL answers (its clock decides, as for every record; a newer row may be there)
      if (cached.expiresAt.getTime() > Date.now()) {
        this.#read(kind, 'cache');
        return this.#asKnown(cached);
      }
    }
    const stored = await this.durable.get(recordKey);
    if (!stored || stored.kind !== kind) {
      this.#read(kind, 'miss');
      return null;
    }
    this.#read(kind, 'db');
    void this.hot.rewarm(stored);
    return this.#asKnown(stored);
  }

  /**
   * A session read as active that this instance knows revoked (the revocation committed, its Redis write failed or
   * is not yet retried) is answered revoked: a copy, the stored record untouched.
   */
  #asKnown<R extends StoredRecord>(record: R): R {
    if (record.kind !== 'Session' || record.state !== 'active') return record;
    return this.#known?.get(record.recordKey.toString('hex'))?.state === 'revoked'
      ? { ...record, state: 'revoked' }
      : record;
  }

  /** A session by its cookie id or by one of its sids (the pointer read once per request, like the record). */
  /** {@link findSession}'s reads started early, as {@link prefetch} (a request that knows the cookie id first). */
  prefetchSession(by: 'lookup' | 'sid', id: string): void {
    if (!inRequest()) return;
    const key = this.keys.key(by === 'lookup' ? 'jti' : 'sid', id);
    memoised(pointerMemoKey(by, key), () => this.hot.pointer(by, key))
      .then((pointer) => (pointer === 'unavailable' || pointer === null ? null : this.#memoRecord('Session', pointer)))
      .catch(() => undefined);
  }

  async findSession<T>(by: 'lookup' | 'sid', id: string): Promise<Loaded<T> | null> {
    const key = this.keys.key(by === 'lookup' ? 'jti' : 'sid', id);
    const pointer = await memoised(pointerMemoKey(by, key), () => this.hot.pointer(by, key));
    if (pointer === 'unavailable') forget(pointerMemoKey(by, key)); // no answer is not remembered
    if (pointer !== 'unavailable' && pointer !== null) {
      const record = await this.#memoRecord('Session', pointer);
      if (record && (by === 'sid' ? record.sidKeys.some((k) => k.equals(key)) : record.lookupKey?.equals(key))) {
        noteSessionRead(record);
        return { record, payload: await this.#payloads.payload<T>(record) };
      }
    }
    const stored = await this.durable.findSession(by, key);
    if (!stored) {
      this.#read('Session', 'miss');
      return null;
    }
    this.#read('Session', 'db');
    noteSessionRead(stored);
    void this.hot.rewarm(stored);
    return { record: this.#asKnown(stored), payload: await this.#payloads.payload<T>(stored) };
  }

  /** Single use (PostgreSQL decides, atomically): true for the one caller that consumed the record. */
  async consume(kind: RecordKind, id: string): Promise<boolean> {
    forget();
    const ended = await this.durable.consume(this.keys.key(kind, id));
    if (!ended) return false;
    if ((await this.hot.put(ended)) !== true) {
      this.#logger.warn({ kind }, 'session store: Redis unavailable, consumption written to PostgreSQL only');
      this.#hotEnds.later([ended.recordKey]);
    }
    return true;
  }

  /**
   * Soft-deletes records in PostgreSQL and removes them from Redis. The request memo forgets exactly these
   * records and pointers (PostgreSQL ends only the keys given): the other records the request read stay
   * memoised (a session replaced by a new one was followed by a second read of the person's account).
   */
  async end(recordKeys: readonly Buffer[], lookups: readonly Buffer[] = []): Promise<void> {
    // a session ended and saved again in one request (oidc-provider replaces its cookie id after a login): its
    // sid pointers are not deleted (only the cookie one is), so the save need not write them again
    const sessions = await Promise.all(
      recordKeys.map((k) => peek<HotRecord | null>(memoKey('Session', k))?.catch(() => null) ?? null),
    );
    for (const recordKey of recordKeys) for (const kind of KINDS) forget(memoKey(kind, recordKey));
    for (const lookup of lookups) forget(pointerMemoKey('lookup', lookup));
    for (const session of sessions)
      if (session?.pointersUntil) remember(endedMemoKey(session.recordKey), { ...session, lookupKey: null });
    // in a holdWrites scope: made with the scope's writes (a write of the same record in it replaces the end)
    if (this.durable.holdEnd(recordKeys, lookups)) return;
    await this.durable.end(recordKeys);
    await this.#hotEnds.delete(recordKeys, lookups);
  }

  #read(kind: RecordKind, source: 'cache' | 'db' | 'miss'): void {
    this.#metrics.read(kind, source);
    this.#logger.debug({ kind, source }, 'session store read');
  }
}
