/**
 * Whether a token may still be used: its session must not be revoked, the session's version must be the one
 * the token was issued under, and the session must still be the token's person's (`SESSION_REVOKED`,
 * `SESSION_VERSION_STALE`, `SESSION_OF_ANOTHER_PERSON`). Asked wherever a token
 * is read back (userinfo, introspection, revocation: oidc-provider finds the AccessToken through
 * `oidc-models.ts`), so every endpoint that honours a token refuses it the same way.
 *
 * - The local cache (revocations published by any instance) answers first, without I/O; then the
 *   session's version is read from the store (Redis, else PostgreSQL), which catches a missed message.
 * - A token whose session now names another person is refused as such even when the session is also revoked or
 *   stale (an access token only when the local cache has not already refused it: no read then): its caller then
 *   ends the token's grant (`grant-end.ts`), so that it stays refused once the session is gone.
 * - A token without a session (none recorded) is left to oidc-provider's own checks.
 * - Every refusal is audited and counted, with the code.
 */
import type { AuditLog } from '../audit/audit-log.ts';
import type { LocalRevocations } from './revocation-feed.ts';
import type { SessionMetrics, SessionStore } from './session-store.ts';

export const SESSION_REFUSALS = ['SESSION_REVOKED', 'SESSION_VERSION_STALE', 'SESSION_OF_ANOTHER_PERSON'] as const;
export type SessionRefusal = (typeof SESSION_REFUSALS)[number];

export interface TokenFacts {
  /** oidc-provider's session uid the token was issued in. */
  sessionUid: string;
  /** The session version recorded with the token. */
  version: number;
  clientId?: string;
  /** What kind of token (AccessToken, RefreshToken). */
  model: string;
  /** The key of the person the token was issued to (its record's), when it names one. */
  accountKey?: Buffer | null;
}

export class TokenGuard {
  readonly #store: SessionStore;
  readonly #local: LocalRevocations;
  readonly #audit: Pick<AuditLog, 'append'>;
  readonly #metrics: SessionMetrics;

  constructor(deps: {
    store: SessionStore;
    local: LocalRevocations;
    audit: Pick<AuditLog, 'append'>;
    metrics: SessionMetrics;
  }) {
    this.#store = deps.store;
    this.#local = deps.local;
    this.#audit = deps.audit;
    this.#metrics = deps.metrics;
  }

  /** `null` when the token may be used, else the refusal (already audited). */
  async check(token: TokenFacts): Promise<SessionRefusal | null> {
    const key = this.#store.keys.key('Session', token.sessionUid);
    const hex = key.toString('hex');
    let refusal = refusalOf(this.#local.get(hex), token.version);
    // read unless the local cache refused and the token is no refresh token naming a person (whose grant must end
    // if it is another person's: a refresh token outlives its session); a failed read then refuses all the same
    const record =
      !refusal || (token.accountKey && token.model === 'RefreshToken')
        ? await this.#store.record('Session', key).catch((err: unknown) => {
            if (refusal) return null;
            throw err;
          })
        : null;
    refusal ??= refusalOf(record ?? undefined, token.version);
    // another person's, as Redis has it: confirmed in PostgreSQL (after a merge Redis may hold the copy that lost
    // for a moment), so that the session's own person is never refused. Before a revoked or stale session's
    // refusal: the caller ends the grant of a token that is another person's, whatever the session's state.
    if (personRefusal(record, token.accountKey)) {
      const durable = await this.#store.durable.get(key).catch((err: unknown) => {
        if (refusal) return null;
        throw err;
      });
      refusal = personRefusal(durable, token.accountKey) ?? refusal;
    }
    if (!refusal) return null;
    this.#metrics.refused(refusal);
    await this.#audit.append({
      sessionId: `session:${hex.slice(0, 32)}`,
      from: null,
      to: 'TOKEN_REFUSED',
      component: 'session',
      errorCode: refusal,
      details: {
        model: token.model,
        ...(token.clientId ? { clientId: token.clientId } : {}),
        tokenVersion: token.version,
      },
    });
    return refusal;
  }
}

/**
 * A token whose session is now another person's: two people's logins at once on one browser leave one session,
 * the last saved person's, and the other person's tokens were issued on it (oidc-provider refuses those that end
 * with the session by their account; `offline_access` ones only here).
 */
function personRefusal(record: { accountKey: Buffer | null } | null, tokenAccount: Buffer | null | undefined) {
  if (!record?.accountKey || !tokenAccount) return null;
  return record.accountKey.equals(tokenAccount) ? null : ('SESSION_OF_ANOTHER_PERSON' as const);
}

function refusalOf(state: { version: number; state: string } | undefined, tokenVersion: number): SessionRefusal | null {
  if (!state) return null;
  if (state.state === 'revoked') return 'SESSION_REVOKED';
  if (state.version > tokenVersion) return 'SESSION_VERSION_STALE';
  return null;
}
