/**
 * A request's session write that PostgreSQL refused because the session was ended or revoked by another request
 * after this one read it (a logout in another tab, an operator's revocation): `session_record_write` answers the
 * ended or revoked row and writes nothing (migrations 0760, 0780). Within a request whose records are written
 * together (`SessionStore.holdWrites`: the authorization, resumption and token requests), the request then fails
 * with this error instead of handing out the code it made on that session (`oidc/request-writes-together.ts`
 * answers `login_required`): an SSO that lost the race with a logout logs in again, never after the logout.
 */
import type { StoredRecord } from './stored-record.ts';

export class SessionClosedMeanwhile extends Error {
  /** The state PostgreSQL answered: `ended` or `revoked`. */
  readonly state: string;

  constructor(state: string) {
    super(`the session was ${state} by another request while this one ran`);
    this.name = 'SessionClosedMeanwhile';
    this.state = state;
  }
}

/**
 * The first session that `given` wrote as active and PostgreSQL answered closed (`stored`, same order): an end
 * this request made and then wrote over (a login replacing its cookie id) comes back active, so it is not one.
 */
export function closedMeanwhile(
  stored: readonly StoredRecord[],
  given: readonly StoredRecord[],
): SessionClosedMeanwhile | undefined {
  const at = stored.findIndex(
    (row, i) => row.kind === 'Session' && given[i]?.state === 'active' && row.state !== 'active',
  );
  return at < 0 ? undefined : new SessionClosedMeanwhile(stored[at]!.state);
}
