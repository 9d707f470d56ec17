/**
 * A request's session write that PostgreSQL refused because the session was ended or revoked by another request
 * after this one read it (a logout in another tab, an operator's revocation): `session_record_write` answers the
 * ended or revoked row and writes nothing (migrations 0760, 0780). Within a request whose records are written
 * together (`SessionStore.holdWrites`: the authorization, resumption and token requests), the request then fails
 * with this error instead of handing out the code it made on that session (`oidc/request-writes-together.ts`
 * answers `login_required`): an SSO that lost the race with a logout logs in again, never after the logout. So
 * does a request whose grant write was refused because the gateway ended that grant meanwhile (`grant-end.ts`,
 * migration 0830), when the write is made as the scope ends; one made within the request (an SSO's `writeHeld`,
 * the resumption's login completion in a scope of its own) fails it with a server error. A request that ended the
 * grant itself and then writes it is refused by PostgreSQL and goes on: its code fails at the token endpoint (no
 * such grant).
 */
import type { CheckedRecord } from './held-writes.ts';
import type { StoredRecord } from './stored-record.ts';

export class SessionClosedMeanwhile extends Error {
  /** The state PostgreSQL answered: `ended` or `revoked`. */
  readonly state: string;

  constructor(state: string, what: 'session' | 'grant' = 'session') {
    super(`the ${what} was ${state} by another request while this one ran`);
    this.name = 'SessionClosedMeanwhile';
    this.state = state;
  }
}

/**
 * The first session (or grant) that `given` wrote as active and PostgreSQL answered closed (`stored`, same order): an
 * end this request made and then wrote over (a login replacing its cookie id) comes back active, so it is not one. Else
 * the first session the request read, did not write again, and found closed when checked (`checked`: the sessions saved
 * unchanged, held-writes.ts; no current row at all is an end too).
 */
export function closedMeanwhile(
  stored: readonly StoredRecord[],
  given: readonly StoredRecord[],
  checked: readonly CheckedRecord[],
): SessionClosedMeanwhile | undefined {
  const at = stored.findIndex(
    (row, i) =>
      (row.kind === 'Session' || row.kind === 'Grant') && given[i]?.state === 'active' && row.state !== 'active',
  );
  // a grant the gateway ended meanwhile (migration 0830: never written again): a code made on it is not handed out
  if (at >= 0) return new SessionClosedMeanwhile(stored[at]!.state, stored[at]!.kind === 'Grant' ? 'grant' : 'session');
  // a session this request read and saved again unchanged (not written): its current row, checked with the writes
  // (one that could not be read is no answer: the flush then fails with `UncheckedRecords`)
  const gone = checked.find((c) => c.state !== 'active' && c.state !== 'unknown');
  return gone ? new SessionClosedMeanwhile(gone.state === 'absent' ? 'ended' : gone.state) : undefined;
}
