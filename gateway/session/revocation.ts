/**
 * Session revocation, as a small typed API (the admin API and the CLI call it):
 *
 * | call                               | ends                                                  |
 * |------------------------------------|-------------------------------------------------------|
 * | `revokeSession({ uid } or { sid })`| one session (a `sid` is what every token carries)     |
 * | `revokeAllOfAccount(accountId)`    | every session of a person                             |
 * | `revokeAllOfIdp(idp)`              | every session that came from one IdP                  |
 * | `revokeIssuedBefore(instant)`      | every session begun before (a key compromise time)    |
 * | `invalidateTokens(ref)`            | no session: bumps the version, every earlier token is refused |
 *
 * A revocation of one session (`revokeSession`) is announced to every instance (`RevocationFeed.announce`)
 * at the same time as its PostgreSQL transaction starts: a revocation is monotonic (a revoked session never
 * comes back), so telling it before it is durable is safe, and propagation does not wait on PostgreSQL. If
 * the durable write fails (after `DURABLE_ATTEMPTS` tries), the caller gets `REVOCATION_NOT_DURABLE` and the
 * write is retried by `syncPending()` until PostgreSQL takes it; then it completes like any other.
 *
 * Each lands in PostgreSQL (new rows with version + 1 and the outbox row, one transaction), is
 * then written to Redis and published (`revocation-feed.ts`), then audited (`SESSION_REVOKED`). When Redis is down the outbox row
 * stays unsynced and `syncPending()` (every instance, on a timer and when Redis reconnects) applies it
 * once Redis answers; meanwhile every read that misses Redis reads PostgreSQL, which already says revoked.
 * Listeners (`onRevoked`) learn every revoked session after it is propagated (back-channel logout to the
 * session's RPs: oidc/backchannel-logout.ts); a listener's failure never fails the revocation. Telling the RPs is
 * work kept in PostgreSQL (`revocation-notices.ts`): a gateway tells those of its own revocations under a lease —
 * one session's before the call returns, a wider scope's (an IdP's, a person's, every session before an instant)
 * after it, so that an operator's request does not wait on every RP —, and `tellDue()`, on every gateway's timer,
 * those of the revocations no gateway holds: the session CLI's (a process with no RP to tell), and those of a
 * gateway that stopped before it was done.
 *
 * A scope of more than `REVOKE_BATCH` (1,000) sessions is written batch after batch (`revocation-writes.ts`), each
 * with its outbox row and audit record (`batch`; `revocation`: the first batch's id), only sessions created before
 * it began (+5 min for clocks). This gateway tells the first batch's RPs, the sweepers the others'. Actor and reason
 * are written with control or invisible characters replaced (`audit/operator-text.ts`): never refused for their text.
 */
import type { AuditLog } from '../audit/audit-log.ts';
import { GatewayError } from '../errors.ts';
import { REVOKE_BATCH, type RevocationScope, type RevokeBatch, type StoredRecord } from './durable-tier.ts';
import { printable } from '../audit/operator-text.ts';
import { CREATED_MARGIN_MS, retryable, writeRevocation } from './revocation-writes.ts';
import type { RevocationFeed } from './revocation-feed.ts';
import { MAX_NOTICE_ATTEMPTS, NOTICE_LEASE_MS, type RevocationNotices } from './revocation-notices.ts';
import type { SessionMetrics, SessionStore } from './session-store.ts';

export type SessionRef = { uid: string } | { sid: string };

type Revocation = [
  scope: RevocationScope,
  match: Buffer | string | Date,
  target: string,
  options: RevokeOptions,
  revoke: boolean,
];

export interface RevocationResult {
  /** The outbox id. */
  id: string;
  /** Sessions changed (0: nothing matched, or all were already revoked). */
  sessions: number;
  /** Whether Redis and the other instances have it now (false: Redis down, applied when it returns). */
  propagated: boolean;
  /**
   * The RPs of the sessions it ended: `told` before it returned (one session), `telling` by this gateway now,
   * `queued` for the running gateways (a process with no RP to tell: the CLI), `none` (no session ended).
   */
  rps: 'told' | 'telling' | 'queued' | 'none';
}

export interface RevokeOptions {
  /** Who asks: `person`, `operator:<name>`, `fraud`, `cli:<user>`. */
  actor: string;
  reason: string;
}

/**
 * The actor and reason as written: a control or invisible character (audit/operator-text.ts) replaced, never a
 * revocation refused for its text (the admin API and the CLI refuse such text from an operator before this).
 */
function printableOptions(options: RevokeOptions): RevokeOptions {
  return { ...options, actor: printable(options.actor), reason: printable(options.reason) };
}

export class SessionRevoker {
  readonly #store: SessionStore;
  readonly #feed: RevocationFeed;
  readonly #audit: Pick<AuditLog, 'append'>;
  readonly #metrics: SessionMetrics;
  readonly #notices: RevocationNotices | undefined;
  readonly #batch: number;
  /** Revocations announced whose durable write failed: retried by `syncPending`. */
  readonly #undurable: Revocation[] = [];
  readonly #listeners: Array<(records: readonly StoredRecord[], options: RevokeOptions) => Promise<void>> = [];

  constructor(deps: {
    store: SessionStore;
    feed: RevocationFeed;
    audit: Pick<AuditLog, 'append'>;
    metrics: SessionMetrics;
    /** Where the RPs still to be told are kept (absent: told in process only, as a test's revoker may). */
    notices?: RevocationNotices;
    /** The most sessions one revocation transaction ends (default `REVOKE_BATCH`). */
    batch?: number;
  }) {
    this.#batch = deps.batch ?? REVOKE_BATCH;
    this.#notices = deps.notices;
    this.#store = deps.store;
    this.#feed = deps.feed;
    this.#audit = deps.audit;
    this.#metrics = deps.metrics;
  }

  /**
   * Called with the sessions each revocation ended and who ended them (not for `invalidateTokens`: the session goes
   * on). A listener that could not tell some sessions throws an error naming them (`failedRecords`: their record
   * keys): only those are told at the next attempt.
   */
  onRevoked(listener: (records: readonly StoredRecord[], options: RevokeOptions) => Promise<void>): void {
    this.#listeners.push(listener);
  }

  /** Revokes one session, named by its uid or by a sid it handed out. */
  async revokeSession(ref: SessionRef, options: RevokeOptions): Promise<RevocationResult> {
    return this.#bySession(ref, options, true);
  }

  /** Keeps the session but refuses every token issued before now (version + 1). */
  async invalidateTokens(ref: SessionRef, options: RevokeOptions): Promise<RevocationResult> {
    return this.#bySession(ref, options, false);
  }

  revokeAllOfAccount(accountId: string, options: RevokeOptions): Promise<RevocationResult> {
    const key = this.#store.keys.key('account', accountId);
    return this.#run('account', key, key.toString('hex'), options, true, false);
  }

  revokeAllOfIdp(idp: string, options: RevokeOptions): Promise<RevocationResult> {
    return this.#run('idp', idp, idp, options, true, false);
  }

  revokeIssuedBefore(instant: Date, options: RevokeOptions): Promise<RevocationResult> {
    if (Number.isNaN(instant.getTime())) throw new TypeError('revokeIssuedBefore needs a valid instant');
    return this.#run('issued_before', instant, instant.toISOString(), options, true, false);
  }

  /** Applies revocations that did not reach Redis yet. Returns how many were applied. */
  async syncPending(limit = 100): Promise<number> {
    let applied = 0;
    // taken out before it runs (two overlapping calls never write one twice), put back when it fails again
    for (let next = this.#undurable.shift(); next !== undefined; next = this.#undurable.shift()) {
      try {
        await this.#run(...next, false);
      } catch (error) {
        // PostgreSQL still out of reach: kept, in order, for the next call. Refused for good (a statement PostgreSQL
        // will never take): audited as not written and set aside, never left ahead of the others to block them
        if (!retryable(error)) {
          await this.#auditNotWritten(next, error);
          continue;
        }
        this.#undurable.unshift(next);
        throw error;
      }
      applied += 1;
    }
    for (const pending of await this.#store.durable.unsynced(limit)) {
      if (!(await this.#propagate(pending.id, pending.records))) break;
      applied += 1;
    }
    return applied;
  }

  async #bySession(ref: SessionRef, given: RevokeOptions, revoke: boolean): Promise<RevocationResult> {
    const options = printableOptions(given);
    let recordKey: Buffer;
    if ('uid' in ref) recordKey = this.#store.keys.key('Session', ref.uid);
    else {
      const found = await this.#store.findSession('sid', ref.sid);
      if (!found) {
        // audited like a revocation of any other scope that matched nothing
        await this.#audit.append({
          sessionId: 'revocation:unmatched',
          from: null,
          to: revoke ? 'SESSION_REVOKED' : 'SESSION_TOKENS_INVALIDATED',
          component: 'session',
          details: { scope: 'sid', target: ref.sid, actor: options.actor, reason: options.reason, sessions: 0 },
        });
        return { id: '', sessions: 0, propagated: true, rps: 'none' };
      }
      recordKey = found.record.recordKey;
    }
    return this.#run('session', recordKey, recordKey.toString('hex'), options, revoke, revoke);
  }

  async #run(
    scope: RevocationScope,
    match: Buffer | string | Date,
    target: string,
    given: RevokeOptions,
    revoke: boolean,
    announce: boolean,
  ): Promise<RevocationResult> {
    const options = printableOptions(given);
    // one known session: every instance hears of it while PostgreSQL writes it (never awaited: a Redis
    // outage must not hold the durable write up; the outbox covers that case)
    if (announce && scope === 'session' && Buffer.isBuffer(match))
      void this.#feed.announce(match).catch(() => undefined);
    // a wide scope is ended batch after batch (REVOKE_BATCH), each durable, propagated, audited and told on its own; an
    // audit record that cannot be written stops no batch (the caller hears after). One session is never matched by its
    // age: a clock ahead on the gateway that made it must not spare it
    const createdBefore = scope === 'session' ? null : new Date(Date.now() + CREATED_MARGIN_MS);
    let auditFailure: unknown;
    let first: string | undefined;
    let [sessions, batches, propagated, more] = [0, 0, true, true];
    let rps: RevocationResult['rps'] = 'none';
    while (more) {
      const written = await this.#write(scope, match, target, options, revoke, announce, {
        batch: this.#batch,
        later: batches > 0,
        createdBefore,
      }); // a batch that fails: those before it are durable and audited
      const { id, records } = written;
      if (id === '') break; // a later batch that found none left
      [first, batches, more] = [first ?? id, batches + 1, written.more];
      for (const r of records)
        this.#feed.local.learn(r.recordKey.toString('hex'), { version: r.version, state: r.state });
      // propagated before it is audited: the audit record (hash chain) must not delay the refusals. Once Redis failed,
      // the later batches are left to syncPending (their outbox rows), not waited on one by one
      const now = propagated && (await this.#propagate(id, records));
      propagated &&= now;
      this.#metrics.revoked(scope, records.length);
      sessions += records.length;
      try {
        await this.#audit.append({
          sessionId: `revocation:${id}`,
          from: null,
          to: revoke ? 'SESSION_REVOKED' : 'SESSION_TOKENS_INVALIDATED',
          component: 'session',
          details: {
            scope,
            target,
            actor: options.actor,
            reason: options.reason,
            sessions: records.length,
            propagated: now,
            // the batches of one revocation: each names the first (the revocation's id)
            ...(batches > 1 || more ? { batch: batches, revocation: first } : {}),
          },
        });
      } catch (error) {
        auditFailure ??= error;
      } finally {
        // the RPs are told of sessions revoked even when the audit record could not be written (the caller gets
        // that error): a retry would match none of them again, as they are revoked already
        if (revoke && records.length > 0) rps = await this.#tellBatch(scope, id, records, options, batches === 1, rps);
      }
    }
    if (auditFailure !== undefined) throw auditFailure;
    return { id: first!, sessions, propagated, rps };
  }

  /** One batch of a revocation written in PostgreSQL (`revocation-writes.ts`); queued when announced and undurable. */
  async #write(
    scope: RevocationScope,
    match: Buffer | string | Date,
    target: string,
    options: RevokeOptions,
    revoke: boolean,
    announce: boolean,
    cut: RevokeBatch,
  ): Promise<{ id: string; records: StoredRecord[]; more: boolean }> {
    // the first batch is told by this gateway under its lease; the others by every gateway's sweeper (`tellDue`), whose
    // leases start when they take them. Without a place for notices, every batch is told here
    const leased = !cut.later && this.#listeners.length > 0 && this.#notices;
    try {
      return await writeRevocation(this.#store.durable, {
        scope,
        match,
        target,
        actor: options.actor,
        reason: options.reason,
        revoke,
        notice: leased ? { holder: this.#notices!.holder, leaseMs: NOTICE_LEASE_MS } : null,
        cut,
      });
    } catch (error) {
      // announced but not durable only while PostgreSQL is out of reach: a statement refused for good is the caller's
      // error now, never a retry that cannot succeed
      if (!announce || !retryable(error)) throw error;
      // announced but not durable: the caller is told, and syncPending() writes it once PostgreSQL answers
      this.#undurable.push([scope, match, target, options, revoke]);
      throw new GatewayError('REVOCATION_NOT_DURABLE', 503, 'the revocation is announced but not yet durable', {
        cause: error,
      });
    }
  }

  /**
   * The RPs of one batch's revoked sessions: told now for one session (`told`, or `telling` when a listener failed:
   * the row is taken again later), in the background for the first batch of a wider scope (every batch without a place
   * for notices), by the sweepers for the others; `queued` for a revoker with no RP to tell (the CLI).
   */
  async #tellBatch(
    scope: RevocationScope,
    id: string,
    records: readonly StoredRecord[],
    options: RevokeOptions,
    firstBatch: boolean,
    before: RevocationResult['rps'],
  ): Promise<RevocationResult['rps']> {
    if (this.#listeners.length === 0) return 'queued';
    if (scope === 'session') return (await this.#tell(id, records, options, 1)) ? 'told' : 'telling';
    if (firstBatch || !this.#notices) void this.#tell(id, records, options, 1).catch(() => undefined);
    return before === 'none' ? 'telling' : before;
  }

  /**
   * Tells the RPs of the revocations no gateway is telling (the CLI's; a stopped gateway's), up to `limit` of
   * them. Returns how many. Only a revoker with listeners (a gateway) takes any.
   */
  async tellDue(limit = 10, onGivenUp?: (id: string) => void): Promise<number> {
    const notices = this.#notices;
    if (this.#listeners.length === 0 || !notices) return 0;
    let told = 0;
    // one at a time, each under its own lease: a lease taken for a row told later would run out meanwhile
    for (let notice = await notices.claimNext(); notice; notice = told < limit ? await notices.claimNext() : null) {
      const done = await this.#tell(notice.id, notice.records, notice, notice.attempts);
      if (!done && notice.attempts >= MAX_NOTICE_ATTEMPTS) onGivenUp?.(notice.id);
      told += 1;
    }
    return told;
  }

  /**
   * Runs every listener on the sessions of revocation `id`, its lease renewed meanwhile; then marks it told,
   * unless a listener failed (an error of ours: the lease runs out and the row is taken again). Whether it was.
   */
  async #tell(
    id: string,
    records: readonly StoredRecord[],
    options: RevokeOptions,
    attempts: number,
  ): Promise<boolean> {
    const notices = this.#notices;
    const renewal = notices
      ? setInterval(() => void notices.renew(id).catch(() => undefined), NOTICE_LEASE_MS / 3).unref()
      : undefined;
    try {
      let failed = false;
      // the sessions a listener could not tell (it names them: `failedRecords`), else every one
      const pending = new Map<string, Buffer>();
      let all = false;
      for (const listener of this.#listeners)
        await listener(records, options).catch((error: unknown) => {
          failed = true;
          const named = (error as { failedRecords?: unknown }).failedRecords;
          if (Array.isArray(named)) for (const key of named as Buffer[]) pending.set(key.toString('hex'), key);
          else all = true;
        });
      if (failed) {
        await notices?.retryLater(id, all ? null : [...pending.values()], attempts).catch(() => undefined);
        return false;
      }
      // not marked when PostgreSQL refuses: the lease runs out and a sweeper tells them again (at least once)
      await notices?.told(id).catch(() => undefined);
      return true;
    } finally {
      clearInterval(renewal);
    }
  }

  /** The audit record of an announced revocation PostgreSQL refused for good (its sessions stay as they were). */
  async #auditNotWritten([scope, , target, options, revoke]: Revocation, error: unknown): Promise<void> {
    await this.#audit
      .append({
        sessionId: 'revocation:not-written',
        from: null,
        to: revoke ? 'SESSION_REVOCATION_NOT_WRITTEN' : 'SESSION_TOKENS_INVALIDATION_NOT_WRITTEN',
        component: 'session',
        errorCode: 'REVOCATION_NOT_DURABLE',
        details: {
          scope,
          target,
          actor: options.actor,
          detail: String((error as { code?: unknown })?.code ?? (error as Error)?.name ?? 'unknown'),
        },
      })
      .catch(() => undefined);
  }

  async #propagate(id: string, records: readonly StoredRecord[]): Promise<boolean> {
    if ((await this.#store.hot.setState(records)) !== true) return false;
    try {
      await this.#feed.publish(id, records);
    } catch {
      return false;
    }
    // propagated: a failure to mark it so leaves the row for the next sync, which applies it again (idempotent)
    await this.#store.durable.markSynced(id).catch(() => undefined);
    return true;
  }
}
