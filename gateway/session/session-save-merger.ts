/**
 * The session store's side of two saves of one session at once (migration 0780, `session-merge.ts`): what each
 * save is made over ({@link SessionSaveMerger.madeOver}, from `session-base.ts`), and the merge of a save into the
 * row another request stored since, sealed again with its pointers (cookie id, sids, person) as merged.
 *
 * The Redis copy: the other request writes its own copy to Redis after its PostgreSQL write, which this merge came
 * after; the two Redis writes may still land in either order (two instances, a slow Redis), and a copy of the same
 * version is overwritten. So the merged record's copy is evicted again once the other's write has surely landed
 * or failed ({@link evictAfterMergeMs}: Redis's command timeouts and a margin): the next reader takes the row
 * from PostgreSQL. Until then, a reader may get the other request's copy (no worse than before the merge).
 *
 * Across persons (two people's logins at once on one browser) the merge keeps one person's session whole; the other
 * person's grants on it are ended once the merged save has surely landed, with the Redis writes of both requests
 * (`lost`, written down before the merged save; `replaced-persons.ts` ends them {@link evictAfterMergeMs} later),
 * so that their tokens are refused for good, not only while the session names the winner (`token-guard.ts`).
 */
import type { Queryable, SessionMerger, StoredRecord } from './durable-tier.ts';
import type { RecordCipher } from './record-cipher.ts';
import type { RecordKeys } from './record-keys.ts';
import type { SessionBase } from './session-base.ts';
import { mergeSession, type SessionPayload } from './session-merge.ts';

/**
 * When a merged session's Redis copy is evicted again: once the other request's Redis write has landed or failed
 * (a command is tried three times, each up to Redis's command timeout), and a second more.
 */
export const evictAfterMergeMs = (redisCommandTimeoutMs: number) => 3 * redisCommandTimeoutMs + 1_000;

export interface SessionSaveMergerDeps {
  keys: RecordKeys;
  cipher: RecordCipher;
  /** A record's payload (the store's: decrypted once per record object). */
  open: <T>(record: StoredRecord) => Promise<T>;
  /** Tells the store a record's plaintext (it need not decrypt what it just sealed). */
  opened: (record: StoredRecord, text: string) => void;
  /** Told of each conflict merged: counted, and the record's Redis copy evicted after {@link evictAfterMergeMs}. */
  merged: (recordKey: Buffer) => void;
  /**
   * Told of the session of a person another person's save replaced, at each merge that replaces it, before the
   * merged save is written (its grants end once that save has surely landed: that person's tokens were issued on a
   * session now another's; `replaced-persons.ts`). A failure fails the save.
   */
  lost: (recordKey: Buffer, session: SessionPayload, db?: Queryable) => Promise<void>;
}

export class SessionSaveMerger implements SessionMerger {
  readonly #deps: SessionSaveMergerDeps;
  /** What each save being written is made over (none: not checked, e.g. a session the request creates). */
  readonly #bases = new WeakMap<StoredRecord, SessionBase>();
  /** A merged save → the save as this request made it. */
  readonly #ours = new WeakMap<StoredRecord, StoredRecord>();

  constructor(deps: SessionSaveMergerDeps) {
    this.#deps = deps;
  }

  /**
   * Notes what the save `record` is made over (`session-base.ts`), before it is written or held. When this
   * request's last save of the session was merged, the row stored is not what this request made (its
   * oidc-provider session lacks the other request's change): the save is merged into that row now, and written
   * as merged (else it would undo the other request's change, unchecked: that row is still current).
   */
  async madeOver(record: StoredRecord, base: SessionBase | undefined): Promise<StoredRecord> {
    if (!base) return record;
    this.#bases.set(record, base);
    const { expected, ancestor } = base;
    if (expected.sealed === ancestor.sealed || expected.state !== 'active') return record;
    return this.#merged(record, expected, false); // the conflict that merged the last save was counted then
  }

  /** The save as this request made it, before any merge (what its next save is made over). */
  oursOf(record: StoredRecord): StoredRecord {
    return this.#ours.get(record) ?? record;
  }

  expected(record: StoredRecord): StoredRecord | undefined {
    return this.#bases.get(record)?.expected;
  }

  /** `record` merged into `theirs`, the row stored since what it expected (`session-merge.ts`). */
  merge(record: StoredRecord, theirs: StoredRecord, db?: Queryable): Promise<StoredRecord> {
    return this.#merged(record, theirs, true, db);
  }

  async #merged(record: StoredRecord, theirs: StoredRecord, conflict: boolean, db?: Queryable): Promise<StoredRecord> {
    const base = this.#bases.get(record);
    if (!base) throw new Error('session store: a session save met another without what it was made over');
    const { keys, cipher, open } = this.#deps;
    const [was, ours, other] = await Promise.all([
      open<SessionPayload>(base.ancestor),
      open<SessionPayload>(record),
      open<SessionPayload>(theirs),
    ]);
    const payload = mergeSession(was, ours, other);
    const loser = personReplaced(ours, other, payload);
    if (loser) await this.#deps.lost(record.recordKey, loser, db);
    const text = JSON.stringify(payload);
    const { sealed, dekVersion } = await cipher.seal(record.recordKey, Buffer.from(text));
    const person = payload.accountId === ours.accountId ? record : theirs;
    const sids = Object.values((payload.authorizations ?? {}) as Record<string, { sid?: unknown }>)
      .map((a) => a.sid)
      .filter((sid): sid is string => typeof sid === 'string');
    const merged: StoredRecord = {
      ...record,
      sealed,
      dekVersion,
      lookupKey: typeof payload.jti === 'string' ? keys.key('jti', payload.jti) : record.lookupKey,
      sidKeys: sids.map((sid) => keys.key('sid', sid)),
      accountKey: person.accountKey,
      idp: person.idp,
    };
    this.#deps.opened(merged, text);
    // merged = theirs + this request's change: a further conflict is merged over theirs
    this.#bases.set(merged, { ancestor: theirs, expected: theirs });
    this.#ours.set(merged, this.oursOf(record));
    if (conflict) this.#deps.merged(record.recordKey);
    return merged;
  }
}

/** The session of the person who lost a merge across persons (the merge keeps one person's session whole), if any. */
function personReplaced(ours: SessionPayload, theirs: SessionPayload, merged: SessionPayload): SessionPayload | null {
  if (typeof ours.accountId !== 'string' || typeof theirs.accountId !== 'string') return null;
  if (ours.accountId === theirs.accountId) return null;
  return merged.accountId === ours.accountId ? theirs : ours;
}
