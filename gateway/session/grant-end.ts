/**
 * The end of a grant the gateway decides on its own (not an RP's or oidc-provider's revocation): every durable
 * artefact of the grant (its access and refresh tokens) and the grant itself, audited first (`GRANT_ENDED`, with
 * the code of its cause). Two causes:
 *
 * - `SESSION_OF_ANOTHER_PERSON`: a token of a person whose session is now another person's (`token-guard.ts`):
 *   the family is refused for good, not only while that other person's session lasts;
 *   Ended as soon as a merge of two saves of a session keeps the other person's (`session-save-merger.ts`,
 *   {@link GrantEnd.endSessionOf}), and again when such a token is presented (a merge this version did not make);
 * - `REFRESH_TOKEN_REUSED`: a rotated refresh token presented again (`refresh-reuse.ts`): its family ends, with
 *   the session when it is still the token's person's.
 */
import type { AuditLog } from '../audit/audit-log.ts';
import type { SessionPayload } from './session-merge.ts';
import type { SessionStore } from './session-store.ts';

export type GrantEndCause = 'SESSION_OF_ANOTHER_PERSON' | 'REFRESH_TOKEN_REUSED';

export class GrantEnd {
  readonly #store: SessionStore;
  readonly #audit: Pick<AuditLog, 'append'>;

  constructor(deps: { store: SessionStore; audit: Pick<AuditLog, 'append'> }) {
    this.#store = deps.store;
    this.#audit = deps.audit;
  }

  /** Ends the grants of every RP of a person's session that another person's save replaced. */
  async endSessionOf(session: SessionPayload): Promise<void> {
    const authorizations = (session.authorizations ?? {}) as Record<string, { grantId?: unknown } | undefined>;
    for (const [clientId, authorization] of Object.entries(authorizations))
      if (typeof authorization?.grantId === 'string')
        await this.end(authorization.grantId, 'SESSION_OF_ANOTHER_PERSON', { model: 'Session', clientId });
  }

  /** Ends the grant `grantId` and its artefacts, audited before. */
  async end(grantId: string, cause: GrantEndCause, details: { clientId?: unknown; model: string }): Promise<void> {
    const grantKey = this.#store.keys.key('Grant', grantId);
    const keys = await this.#store.durable.keysOfGrant(grantKey);
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
    await this.#store.end([...keys, grantKey]);
  }
}
