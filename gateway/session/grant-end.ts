/**
 * The end of a grant the gateway decides on its own (not an RP's or oidc-provider's revocation): every durable
 * artefact of the grant (its access and refresh tokens) and the grant itself, audited first (`GRANT_ENDED`, with
 * the code of its cause; ended all the same when that audit fails). The causes:
 *
 * - `SESSION_OF_ANOTHER_PERSON`: a token of a person whose session is now another person's (`token-guard.ts`):
 *   the family is refused for good, not only while that other person's session lasts. Ended once a merge of two saves of a session that kept the other person's has surely landed
 *   (`replaced-persons.ts`, {@link GrantEnd.endReplaced}), and when such a refresh token, or an access token not
 *   already refused by the local revocation cache, is presented (a merge this version did not make);
 * - `REFRESH_TOKEN_REUSED`: a rotated refresh token presented again (`refresh-reuse.ts`): its family ends, with
 *   the session when it is still the token's person's;
 * - `REFRESH_RISK_TOO_HIGH`, `REFRESH_LOGIN_UNKNOWN`, `REFRESH_UPSTREAM_SESSION_OVER`, `REFRESH_IDP_WITHDRAWN`: a
 *   refresh the risk policy refused, on a session now another person's (`boot.ts`).
 */
import type { AuditLog } from '../audit/audit-log.ts';
import type { ReplacedOutcome, ReplacedPerson } from './session-store-types.ts';
import type { SessionStore } from './session-store.ts';

export type GrantEndCause =
  | 'SESSION_OF_ANOTHER_PERSON'
  | 'REFRESH_TOKEN_REUSED'
  | 'REFRESH_RISK_TOO_HIGH'
  | 'REFRESH_LOGIN_UNKNOWN'
  | 'REFRESH_UPSTREAM_SESSION_OVER'
  | 'REFRESH_IDP_WITHDRAWN';

export class GrantEnd {
  readonly #store: SessionStore;
  readonly #audit: Pick<AuditLog, 'append'>;

  constructor(deps: { store: SessionStore; audit: Pick<AuditLog, 'append'> }) {
    this.#store = deps.store;
    this.#audit = deps.audit;
  }

  /**
   * Ends the grants a person's saves named (`replaced`) on a session another person's save replaced, unless the
   * session's current row in PostgreSQL names that person (`stood`: the merged write not committed yet, or it failed,
   * or a later save of theirs won). Only grants of that very person (a grant's row naming another is left); each
   * ended whatever the others do, then the first failure thrown.
   */
  async endReplaced(replaced: ReplacedPerson): Promise<ReplacedOutcome> {
    const person = replaced.accountKey;
    const current = await this.#store.durable.get(replaced.recordKey);
    if (current?.accountKey?.equals(person)) return 'stood';
    const settled = await Promise.allSettled(
      [...replaced.grants].map(async ([grantKeyHex, clientId]) => {
        const grantKey = Buffer.from(grantKeyHex, 'hex');
        const grant = await this.#store.durable.get(grantKey);
        // gone already (ended, expired): nothing to end; another person's: not theirs to lose
        if (!grant || (grant.accountKey && !grant.accountKey.equals(person))) return;
        await this.#endKey(grantKey, 'SESSION_OF_ANOTHER_PERSON', { model: 'Session', clientId });
      }),
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return 'ended';
  }

  /** Ends the grant `grantId` and its artefacts, audited before (ended all the same when the audit fails). */
  end(grantId: string, cause: GrantEndCause, details: { clientId?: unknown; model: string }): Promise<void> {
    return this.#endKey(this.#store.keys.key('Grant', grantId), cause, details);
  }

  async #endKey(grantKey: Buffer, cause: GrantEndCause, details: { clientId?: unknown; model: string }) {
    const keys = await this.#store.durable.keysOfGrant(grantKey);
    try {
      await this.#audit.append({
        sessionId: `grant:${grantKey.toString('hex').slice(0, 32)}`,
        from: null,
        to: 'GRANT_ENDED',
        component: 'session',
        errorCode: cause,
        details: {
          model: details.model,
          ...(typeof details.clientId === 'string' ? { clientId: details.clientId } : {}),
          artefacts: keys.length,
        },
      });
    } finally {
      // ended even when its audit fails (that error is still thrown): an end takes access away, never gives it
      await this.#store.end([...keys, grantKey]);
    }
  }
}
