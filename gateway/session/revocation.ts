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
 * Each lands first in PostgreSQL (new rows with version + 1 and the outbox row, one transaction), is
 * then written to Redis and published (`revocation-feed.ts`), then audited (`SESSION_REVOKED`). When Redis is down the outbox row
 * stays unsynced and `syncPending()` (every instance, on a timer and when Redis reconnects) applies it
 * once Redis answers; meanwhile every read that misses Redis reads PostgreSQL, which already says revoked.
 * Listeners (`onRevoked`) learn every revoked session after it is propagated (back-channel logout to the
 * session's RPs: oidc/backchannel-logout.ts); a listener's failure never fails the revocation.
 */
import type { AuditLog } from '../audit/audit-log.ts';
import type { RevocationScope, StoredRecord } from './durable-tier.ts';
import type { RevocationFeed } from './revocation-feed.ts';
import type { SessionMetrics, SessionStore } from './session-store.ts';

export type SessionRef = { uid: string } | { sid: string };

export interface RevocationResult {
  /** The outbox id. */
  id: string;
  /** Sessions changed (0: nothing matched, or all were already revoked). */
  sessions: number;
  /** Whether Redis and the other instances have it now (false: Redis down, applied when it returns). */
  propagated: boolean;
}

export interface RevokeOptions {
  /** Who asks: `person`, `operator:<name>`, `fraud`, `cli:<user>`. */
  actor: string;
  reason: string;
}

export class SessionRevoker {
  readonly #store: SessionStore;
  readonly #feed: RevocationFeed;
  readonly #audit: Pick<AuditLog, 'append'>;
  readonly #metrics: SessionMetrics;
  readonly #listeners: Array<(records: readonly StoredRecord[], options: RevokeOptions) => Promise<void>> = [];

  constructor(deps: {
    store: SessionStore;
    feed: RevocationFeed;
    audit: Pick<AuditLog, 'append'>;
    metrics: SessionMetrics;
  }) {
    this.#store = deps.store;
    this.#feed = deps.feed;
    this.#audit = deps.audit;
    this.#metrics = deps.metrics;
  }

  /** Called with the sessions each revocation ended and who ended them (not for `invalidateTokens`: the session goes on). */
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
    return this.#run('account', key, key.toString('hex'), options, true);
  }

  revokeAllOfIdp(idp: string, options: RevokeOptions): Promise<RevocationResult> {
    return this.#run('idp', idp, idp, options, true);
  }

  revokeIssuedBefore(instant: Date, options: RevokeOptions): Promise<RevocationResult> {
    if (Number.isNaN(instant.getTime())) throw new TypeError('revokeIssuedBefore needs a valid instant');
    return this.#run('issued_before', instant, instant.toISOString(), options, true);
  }

  /** Applies revocations that did not reach Redis yet. Returns how many were applied. */
  async syncPending(limit = 100): Promise<number> {
    let applied = 0;
    for (const pending of await this.#store.durable.unsynced(limit)) {
      if (!(await this.#propagate(pending.id, pending.records))) break;
      applied += 1;
    }
    return applied;
  }

  async #bySession(ref: SessionRef, options: RevokeOptions, revoke: boolean): Promise<RevocationResult> {
    let recordKey: Buffer;
    if ('uid' in ref) recordKey = this.#store.keys.key('Session', ref.uid);
    else {
      const found = await this.#store.findSession('sid', ref.sid);
      if (!found) return { id: '', sessions: 0, propagated: true };
      recordKey = found.record.recordKey;
    }
    return this.#run('session', recordKey, recordKey.toString('hex'), options, revoke);
  }

  async #run(
    scope: RevocationScope,
    match: Buffer | string | Date,
    target: string,
    options: RevokeOptions,
    revoke: boolean,
  ): Promise<RevocationResult> {
    const { id, records } = await this.#store.durable.revoke(
      scope,
      match,
      target,
      options.actor,
      options.reason,
      revoke,
    );
    for (const r of records)
      this.#feed.local.learn(r.recordKey.toString('hex'), { version: r.version, state: r.state });
    // propagated before it is audited: the audit record (hash chain) must not delay the refusals
    const propagated = await this.#propagate(id, records);
    this.#metrics.revoked(scope, records.length);
    await this.#audit.append({
      sessionId: `revocation:${id}`,
      from: null,
      to: revoke ? 'SESSION_REVOKED' : 'SESSION_TOKENS_INVALIDATED',
      component: 'session',
      details: { scope, target, actor: options.actor, reason: options.reason, sessions: records.length, propagated },
    });
    if (revoke && records.length > 0)
      for (const listener of this.#listeners) await listener(records, options).catch(() => undefined);
    return { id, sessions: records.length, propagated };
  }

  async #propagate(id: string, records: readonly StoredRecord[]): Promise<boolean> {
    if ((await this.#store.hot.setState(records)) !== true) return false;
    try {
      await this.#feed.publish(id, records);
    } catch {
      return false;
    }
    await this.#store.durable.markSynced(id);
    return true;
  }
}
