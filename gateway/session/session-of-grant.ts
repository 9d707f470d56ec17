/**
 * Which gateway session a grant belongs to: the late fraud verdict knows the login and its grant, the
 * revocation API wants the session. Sessions are sealed at rest, so the person's current sessions
 * (`account_key`, a hashed pointer) are opened and the one whose per-RP authorizations hold the grant is
 * the answer.
 *
 * - only active, unexpired sessions are considered (a revoked or ended session has nothing left to end);
 * - `null` when no session holds the grant (the login never completed, or its session already ended).
 */
import type { SessionStore } from './session-store.ts';

type SessionPayload = { uid?: unknown; authorizations?: Record<string, { grantId?: unknown }> };

/**
 * @example
 * const uid = await sessionOfGrant(store, accountId, grantId); // oidc-provider's Session uid, or null
 */
export async function sessionOfGrant(store: SessionStore, accountId: string, grantId: string): Promise<string | null> {
  for (const record of await store.durable.sessionsOfAccount(store.keys.key('account', accountId))) {
    const loaded = await store.load<SessionPayload>('Session', record.recordKey);
    if (!loaded || typeof loaded.payload.uid !== 'string') continue;
    const holds = Object.values(loaded.payload.authorizations ?? {}).some((a) => a.grantId === grantId);
    if (holds) return loaded.payload.uid;
  }
  return null;
}
