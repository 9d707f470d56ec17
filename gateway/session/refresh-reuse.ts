/**
 * What a reused refresh token ends (issue #12 item 5, OAuth 2.0 Security BCP §4.14.2): a refresh token that
 * was already rotated, presented again, means that two parties hold the family. Both lose it: the family's grant
 * ends (`grant-end.ts`), and the session the family belongs to is revoked through the typed revocation API
 * (`revocation.ts`: version + 1, state `revoked`, published to every instance), so every access and refresh token
 * of the session is refused from then on, at every instance. The reuse is audited (`REFRESH_TOKEN_REUSED`) and counted
 * (`gateway_refresh_token_reuse_total`). The presenter gets oidc-provider's `invalid_grant`.
 */
import type { Registry } from 'prom-client';
import type { AuditLog } from '../audit/audit-log.ts';
import { declareCounter } from '../observability/metrics.ts';
import type { SessionRevoker } from './revocation.ts';
import type { GrantEnd } from './grant-end.ts';

export const REFRESH_TOKEN_REUSED = 'REFRESH_TOKEN_REUSED';

export interface ReusedToken {
  sessionUid?: unknown;
  clientId?: unknown;
  grantId?: unknown;
  rotations?: unknown;
}

/** The key of the person a session's current row in PostgreSQL names (null: none, or no such row). */
export type SessionPerson = (sessionUid: string) => Promise<Buffer | null>;

export class RefreshReuse {
  readonly #revoker: Pick<SessionRevoker, 'revokeSession'>;
  readonly #audit: Pick<AuditLog, 'append'>;
  readonly #count: (clientId: string) => void;
  readonly #sessionPerson: SessionPerson;
  readonly #grants: Pick<GrantEnd, 'end'>;

  constructor(deps: {
    revoker: Pick<SessionRevoker, 'revokeSession'>;
    audit: Pick<AuditLog, 'append'>;
    registry: Registry;
    sessionPerson: SessionPerson;
    grants: Pick<GrantEnd, 'end'>;
  }) {
    this.#revoker = deps.revoker;
    this.#audit = deps.audit;
    this.#sessionPerson = deps.sessionPerson;
    this.#grants = deps.grants;
    const counter = declareCounter(
      deps.registry,
      'gateway_refresh_token_reuse_total',
      'Rotated refresh tokens presented again (each ended its grant, and revoked its session unless now another person’s).',
      ['client'],
    );
    this.#count = (clientId) => {
      counter.inc({ client: clientId });
    };
  }

  /**
   * Ends a reused refresh token's family: its grant, and its session unless that session is now another person's
   * (`accountKey`: the person of the token's record); audits and counts the reuse.
   */
  async reused(token: ReusedToken, accountKey: Buffer | null): Promise<void> {
    const clientId = typeof token.clientId === 'string' ? token.clientId : 'unknown';
    this.#count(clientId);
    const sessionUid = typeof token.sessionUid === 'string' ? token.sessionUid : undefined;
    const person = sessionUid ? await this.#ofAnotherPerson(sessionUid, accountKey) : 'same';
    const sessionOfAnotherPerson = person === 'another';
    const grantId = typeof token.grantId === 'string' ? token.grantId : undefined;
    try {
      // audited before what it ends (the revocation and the grant's end are audited too)
      await this.#audit.append({
        sessionId: `refresh:${grantId ? grantId.slice(0, 32) : 'unknown'}`,
        from: null,
        to: 'TOKEN_REFUSED',
        component: 'session',
        errorCode: REFRESH_TOKEN_REUSED,
        details: {
          clientId,
          rotations: typeof token.rotations === 'number' ? token.rotations : null,
          ends: sessionUid && !sessionOfAnotherPerson ? 'grant and session' : 'grant',
          ...(sessionOfAnotherPerson ? { sessionOfAnotherPerson } : {}),
          ...(person === 'unread' ? { sessionPersonUnread: true } : {}),
        },
      });
    } finally {
      await endFamily(
        // the session when it is still the token's person's
        sessionUid && !sessionOfAnotherPerson
          ? () =>
              this.#revoker.revokeSession(
                { uid: sessionUid },
                { actor: 'refresh-token-reuse', reason: `rotated refresh token of ${clientId} presented again` },
              )
          : undefined,
        // the family's grant always (oidc-provider ends it only when it saw the reuse itself, not in a race past it
        // into `consume`, nor once the session is gone)
        grantId
          ? () => this.#grants.end(grantId, REFRESH_TOKEN_REUSED, { model: 'RefreshToken', clientId })
          : undefined,
      );
    }
  }

  /** Whether the session now names another person; a row that cannot be read revokes the session, as before. */
  async #ofAnotherPerson(sessionUid: string, tokenPerson: Buffer | null): Promise<'same' | 'another' | 'unread'> {
    if (!tokenPerson) return 'same';
    const sessionPerson = await this.#sessionPerson(sessionUid).catch(() => 'unread' as const);
    if (sessionPerson === 'unread') return 'unread';
    return sessionPerson !== null && !sessionPerson.equals(tokenPerson) ? 'another' : 'same';
  }
}

/**
 * Runs each end whatever the others do (an audit, a revocation or a grant's end failing does not leave the rest of
 * the family standing), then throws the first failure.
 */
async function endFamily(...ends: Array<(() => Promise<unknown>) | undefined>): Promise<void> {
  const settled = await Promise.allSettled(ends.map((end) => end?.()));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}
