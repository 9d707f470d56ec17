/**
 * The WebAuthn keys a login enrolled, removed when a late fraud verdict stops that login (translation/boot-fraud.ts,
 * wired by boot.ts): a key an attacker enrolled right after a fresh LoA-high login the verdict later found
 * suspicious would otherwise answer the account's later step-ups for good. Removed and audited together
 * (`WEBAUTHN_CREDENTIALS_REMOVED`, each key by the hash the enrolment record names it by), in one transaction.
 *
 * The removal and an enrolment of the same login are serialised by a transaction-scoped advisory lock on the
 * login (`lockEnrolmentsOf`). The removal records the stop (`webauthn_stopped_logins`, migration 0880) in its
 * transaction; the enrolment reads it under the lock, before it stores (`storeEnrolment`). So an enrolment that
 * spent its grant just before the verdict either sees the stop and stores nothing, or stores its key before the
 * removal takes the lock, and the removal then finds it. Before, its key could be stored after the removal and
 * stay. Both transactions run at READ COMMITTED (PostgreSQL's default, pinned): the statement after the lock
 * sees what the other committed while it waited.
 */
import type { Pool, PoolClient } from 'pg';
import type { AuditRecord } from '../audit/audit-log.ts';
import { WebAuthnError } from './webauthn-error.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { inTransaction } from '../session/pg-transaction.ts';
import { CredentialStore, credentialRef, type StoredCredential } from './credential-store.ts';

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
    await lockEnrolmentsOf(client, loginId);
    // the stop, for an enrolment of this login still to come; a day's rows are kept (a grant lives 10 min)
    await client.query(
      `with gone as (delete from webauthn_stopped_logins where stopped_at < now() - interval '1 day')
       insert into webauthn_stopped_logins (login_id) values ($1) on conflict (login_id) do nothing`,
      [loginId],
    );
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

/** Holds the login's enrolment lock until `client`'s transaction ends (read committed: see the file comment). */
export async function lockEnrolmentsOf(client: Pick<PoolClient, 'query'>, loginId: string): Promise<void> {
  await client.query('set transaction isolation level read committed');
  await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [`webauthn-enrolment\n${loginId}`]);
}

/**
 * Stores a key the login `loginId` enrolled and its audit record, in one transaction under the login's lock,
 * unless a late verdict stopped the login (its row in `webauthn_stopped_logins`): then `WEBAUTHN_ENROLMENT_NOT_ALLOWED` (403), nothing
 * stored.
 * False when the credential id is registered already (a concurrent answer).
 *
 * @example
 * if (!(await storeEnrolment(pool, audit, uid, credential, record))) throw alreadyRegistered();
 */
export async function storeEnrolment(
  pool: Pool,
  audit: Pick<AuditLog, 'appendWithin'>,
  loginId: string,
  credential: StoredCredential,
  record: AuditRecord,
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    await lockEnrolmentsOf(client, loginId);
    const stopped = await client.query('select 1 from webauthn_stopped_logins where login_id = $1', [loginId]);
    if ((stopped.rowCount ?? 0) > 0)
      throw new WebAuthnError('WEBAUTHN_ENROLMENT_NOT_ALLOWED', 'This sign-in can no longer add a security key.', {
        status: 403,
        detail: 'a late fraud verdict stopped the login',
      });
    if (!(await new CredentialStore(pool).add({ ...credential, enrolledByLogin: loginId }, client))) return false;
    await audit.appendWithin(client, record);
    return true;
  });
}
