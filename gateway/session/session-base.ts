/**
 * What a request's save of a session is made over, for the check of migration 0780 and the merge of
 * `session-merge.ts` (two requests saving one session at once), kept for the rest of the request (a
 * `request-memo.ts` mark: an end, a consumption or a revocation clearing the memo does not clear it):
 *
 * - `expected`: the session row the save expects to be current in PostgreSQL (the write is checked against it);
 * - `ancestor`: the session this request's change was made over (the merge's base).
 *
 * | the request                                   | expected                 | ancestor                      |
 * |-----------------------------------------------|--------------------------|-------------------------------|
 * | read the session (Redis or PostgreSQL, first read) | the row read         | the row read                  |
 * | then stored a save of it                      | the row PostgreSQL stored (merged, perhaps) | the save as this request made it |
 * | saved it again before that save was stored (held writes) | unchanged     | unchanged                     |
 * | never read it (a session it creates)          | none: not checked        | none                          |
 *
 * A save after a merge is thus merged again with what it added since its last save, not with what the other
 * request added (which its oidc-provider session never had).
 */
import { doneInRequest, markDone } from './request-memo.ts';
import type { StoredRecord } from './stored-record.ts';

export interface SessionBase {
  expected: StoredRecord;
  ancestor: StoredRecord;
}

const markOf = (recordKey: Buffer) => `session-base:${recordKey.toString('hex')}`;

/** The session `record` as this request first read it: what its saves are made over (a later read changes nothing). */
export function noteSessionRead(record: StoredRecord): void {
  if (record.kind !== 'Session' || doneInRequest(markOf(record.recordKey)) !== undefined) return;
  markDone(markOf(record.recordKey), { expected: record, ancestor: record } satisfies SessionBase);
}

/** A save of the session (`given`, as this request made it) stored by PostgreSQL as `stored`. */
export function noteSessionStored(given: StoredRecord, stored: StoredRecord): void {
  if (given.kind !== 'Session') return;
  markDone(markOf(given.recordKey), { expected: stored, ancestor: given } satisfies SessionBase);
}

/** What a save of the session `recordKey` in this request is made over, if it read or saved the session before. */
export function sessionBase(recordKey: Buffer): Promise<SessionBase> | undefined {
  return doneInRequest<SessionBase>(markOf(recordKey));
}
