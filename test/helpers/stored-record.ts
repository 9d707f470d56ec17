/**
 * A session-store record for tests of the durable and hot tiers: an active record of `kind` under a fresh
 * key, with an account, IdP `demo-idp`, version 1, a sealed payload of random bytes (the tiers never open
 * it), created now, expiring in 10 minutes; a Session has a cookie lookup key. `fields` replaces any of it.
 *
 * @example
 * const grant = storedRecord('Grant'); const revoked = storedRecord('Session', { state: 'revoked', version: 2 });
 */
import { randomBytes } from 'node:crypto';
import type { StoredRecord } from '../../gateway/session/stored-record.ts';

export function storedRecord(kind: StoredRecord['kind'], fields: Partial<StoredRecord> = {}): StoredRecord {
  return {
    recordKey: randomBytes(32),
    kind,
    lookupKey: kind === 'Session' ? randomBytes(32) : null,
    sidKeys: [],
    grantKey: null,
    accountKey: randomBytes(32),
    idp: 'demo-idp',
    version: 1,
    state: 'active',
    dekVersion: 1,
    sealed: `s1.1.${randomBytes(40).toString('base64url')}`,
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + 600_000),
    ...fields,
  };
}
