/**
 * A key whose signed answer carries a counter that did not grow is a cloned authenticator (WebAuthn L3 §6.1.1): two
 * copies of its private key sign, each with its own counter. The gateway refuses that answer
 * (`WEBAUTHN_COUNTER_REGRESSION`), and suspends the key: it stands in for nothing any more, from any copy, until the
 * service desk removes it (`node gateway/webauthn/cli.ts remove <reference>`) and the person enrols another one. The
 * suspension and its audit record (`WEBAUTHN_CREDENTIAL_SUSPENDED`, the key by its reference, both counters) are one
 * transaction.
 *
 * Only a verified signature counts (ceremonies.ts compares the counter after it): an answer someone forged without
 * the key cannot get a person's key suspended. A key whose last good use is under two minutes old is not suspended
 * (refused only): two ceremonies of the person's own at once, in two tabs, answer out of order.
 *
 * Not undone: what the clone's accepted answers did before one was caught (the logins they completed, a key they
 * confirmed the enrolment of). The step-up records name the key (`credential`), for the investigation.
 */
import type { Pool } from 'pg';
import type { AuditLog } from '../audit/audit-log.ts';
import { inTransaction } from '../session/pg-transaction.ts';
import { CredentialStore, credentialRef } from './credential-store.ts';
import { WebAuthnError } from './webauthn-error.ts';

/**
 * Suspends `credentialId` after the login `loginId` got a signed answer with a counter that did not grow; true when
 * this call suspended it (false: already suspended, removed meanwhile, or used well less than two minutes ago).
 *
 * @example
 * await suspendClonedKey(pool, audit, { loginId, credentialId, ceremony: 'authenticate', detail: 'counter 4 ≤ 9' });
 */
export async function suspendClonedKey(
  pool: Pool,
  audit: Pick<AuditLog, 'appendWithin'>,
  what: { loginId: string; credentialId: string; ceremony: 'authenticate' | 'confirm'; detail: string },
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    if (!(await new CredentialStore(pool).suspend(what.credentialId, 'WEBAUTHN_COUNTER_REGRESSION', client)))
      return false;
    await audit.appendWithin(client, {
      sessionId: what.loginId,
      from: null,
      to: 'WEBAUTHN_CREDENTIAL_SUSPENDED',
      component: 'webauthn',
      errorCode: 'WEBAUTHN_COUNTER_REGRESSION',
      details: { credential: credentialRef(what.credentialId), ceremony: what.ceremony, counters: what.detail },
    });
    return true;
  });
}

/**
 * Runs a ceremony's verification of `credentialId`'s answer; a `WEBAUTHN_COUNTER_REGRESSION` it throws (the
 * verified answer's counter, or the store's atomic check against a concurrent answer) first suspends the key.
 */
export async function suspendingAClone<T>(
  deps: { pool: Pool; audit: Pick<AuditLog, 'appendWithin'> },
  loginId: string,
  credentialId: string,
  ceremony: 'authenticate' | 'confirm',
  verify: () => Promise<T>,
): Promise<T> {
  try {
    return await verify();
  } catch (error) {
    if (error instanceof WebAuthnError && error.code === 'WEBAUTHN_COUNTER_REGRESSION')
      await suspendClonedKey(deps.pool, deps.audit, { loginId, credentialId, ceremony, detail: error.detail ?? '' });
    throw error;
  }
}
