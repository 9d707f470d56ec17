/**
 * The persons whose session another person's save replaced (a merge across persons, `session-save-merger.ts`: two
 * people's logins at once on one browser). Their grants end (`grant-end.ts`, through the handler `boot-sessions.ts`
 * sets) once the merged save and both requests' Redis writes have surely landed or failed: after the delay of the
 * merged session's own Redis eviction (`evictAfterMergeMs`), in a timer, never while a write or its lock is under
 * way. While the session still names that person (the merged write not committed yet, or it failed), or when the
 * end failed (PostgreSQL or the audit not answering), they are looked at again, {@link REPLACED_CHECKS} times in
 * all, then left (a failure logged).
 *
 * Kept in this process only: an instance stopping within the delay does not end them. Their tokens are then still
 * refused when presented while the session names the other person (`token-guard.ts`, which ends their grant then).
 */
import type { Logger } from 'pino';
import type { SessionPayload } from './session-merge.ts';
import type { ReplacedOutcome, ReplacedPerson } from './session-store-types.ts';

/** How many times a replaced person's grants are looked at while the session still names them (then left). */
export const REPLACED_CHECKS = 3;

export class ReplacedPersons {
  readonly #after: number;
  readonly #logger: Logger;
  #handler: (replaced: ReplacedPerson) => Promise<ReplacedOutcome> = () => Promise.resolve('ended');
  /** By (session, person): the grants to end, from every merge round and every save that replaced them meanwhile. */
  readonly #pending = new Map<string, ReplacedPerson>();
  readonly #timers = new Set<NodeJS.Timeout>();

  /** `after`: ms from a merge to the end of its replaced person's grants. */
  constructor(after: number, logger: Logger) {
    this.#after = after;
    this.#logger = logger;
  }

  handle(handler: (replaced: ReplacedPerson) => Promise<ReplacedOutcome>): void {
    this.#handler = handler;
  }

  /** A merge of a save of the session `recordKey` replaced the person of `session` (as that person saved it). */
  replaced(recordKey: Buffer, session: SessionPayload): void {
    if (typeof session.accountId !== 'string') return;
    const grants = new Map<string, string>();
    for (const [clientId, authorization] of Object.entries(
      (session.authorizations ?? {}) as Record<string, { grantId?: unknown } | undefined>,
    ))
      if (typeof authorization?.grantId === 'string') grants.set(authorization.grantId, clientId);
    this.#later({ recordKey, accountId: session.accountId, grants }, 1);
  }

  #later(replaced: ReplacedPerson, check: number): void {
    const pair = `${replaced.recordKey.toString('hex')}:${replaced.accountId}`;
    const pending = this.#pending.get(pair);
    if (pending) {
      for (const [grantId, clientId] of replaced.grants) pending.grants.set(grantId, clientId);
      return;
    }
    this.#pending.set(pair, replaced);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#pending.delete(pair); // a save replacing them from now on is ended by a timer of its own
      this.#handler(replaced).then(
        (outcome) => {
          if (outcome === 'stood' && check < REPLACED_CHECKS) this.#later(replaced, check + 1);
        },
        (err: unknown) => {
          if (check < REPLACED_CHECKS) return this.#later(replaced, check + 1);
          // their tokens are still refused when presented while the session names the other person (token-guard.ts)
          this.#logger.error({ err }, "session store: the grants of a person another person's save replaced not ended");
        },
      );
    }, this.#after);
    timer.unref();
    this.#timers.add(timer);
  }

  /** Drops the ends not yet due (the instance stopping: its pool closes). */
  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#pending.clear();
  }
}
