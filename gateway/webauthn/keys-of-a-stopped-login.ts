/**
 * The WebAuthn keys a login enrolled, removed when a late fraud verdict stops that login (translation/boot-fraud.ts,
 * wired by boot.ts): a key an attacker enrolled right after a fresh LoA-high login the verdict later found
 * suspicious would otherwise answer the account's later step-ups for good. Removed and audited together
 * (`WEBAUTHN_CREDENTIALS_REMOVED`, each key by the hash the enrolment record names it by), in one transaction.
 */
import type { Pool } from 'pg';
import type { AuditLog } from '../audit/audit-log.ts';
import { inTransaction } from '../session/pg-transaction.ts';
import { CredentialStore, credentialRef } from './credential-store.ts';

/**
 * @example
 * const removed = await removeKeysOfAStoppedLogin(pool, audit, loginId); // how many
 */
export async function removeKeysOfAStoppedLogin(
  pool: Pool,
  audit: Pick<AuditLog, 'appendWithin'>,
  loginId: string,
): Promise<number> {
  return inTransaction(pool, async (client) => {
    const removed = await new CredentialStore(pool).removeEnrolledBy(loginId, client);
    if (removed.length > 0)
      await audit.appendWithin(client, {
        sessionId: loginId,
        from: null,
        to: 'WEBAUTHN_CREDENTIALS_REMOVED',
        component: 'webauthn',
        errorCode: 'RISK_LATE_VERDICT',
        details: {
          credentials: removed.map(credentialRef),
        },
      });
    return removed.length;
  });
}
