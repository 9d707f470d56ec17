/**
 * Two requests that saved one session at once (two SSOs in two tabs, to two RPs; a logout from one RP beside an
 * SSO to another): the later write is merged into the row the earlier one stored (migration 0780 answers that row
 * instead of writing over it), so that neither request's change to the session is lost: above all no RP drops
 * out of its `authorizations`, which back-channel logout and the session's grants read.
 *
 * A three-way merge of oidc-provider's session payload: `base` is what this request's change was made over, `ours`
 * the change, `theirs` the row stored since.
 *
 * | what                                   | merged                                                              |
 * |----------------------------------------|---------------------------------------------------------------------|
 * | a field (`jti`, `exp`, `acr`, `state`, …) | this request's when it changed it, else the other request's          |
 * | an RP's entry in `authorizations`      | the same, RP by RP: an RP this request added, changed or removed is as it made it; any other RP as the other request left it (kept, changed, removed) |
 * | the same person in both (two tabs' first logins of one person too) | merged as above                    |
 * | another person: changed by the other request only | the other request's session, whole (this request's change was made for another person) |
 * | another person: changed by this request | this request's session, whole (a new login starts the session's RPs afresh) |
 *
 * The cookie id (`jti`) follows the rule of every field: a login in the other tab that replaced it (against
 * session fixation) keeps its new one; the old one, which the other tab ended, is never made current again. The
 * browser may then hold the old one (this response's cookie): it is signed out, never signed in with a replaced id.
 *
 * Nothing is merged across a logout or a revocation: PostgreSQL answers an ended or revoked row without writing.
 */

type Entries = Record<string, unknown>;
/** oidc-provider's session payload: the merge reads `accountId` and `authorizations` and carries the rest. */
export type SessionPayload = Record<string, unknown> & { accountId?: unknown; authorizations?: unknown };

const AUTHORIZATIONS = 'authorizations';

const entriesOf = (payload: SessionPayload): Entries =>
  typeof payload.authorizations === 'object' && payload.authorizations !== null
    ? (payload.authorizations as Entries)
    : {};

/**
 * `ours` (this request's session, changed from `base`) merged into `theirs` (the session as another request
 * stored it since).
 *
 * @example
 * mergeSession(
 *   { accountId: 'a', authorizations: { rpA: { sid: '1' } } },
 *   { accountId: 'a', authorizations: { rpA: { sid: '1' }, rpB: { sid: '2' } } },
 *   { accountId: 'a', authorizations: { rpA: { sid: '1' }, rpC: { sid: '3' } } },
 * ).authorizations; // { rpA: …, rpB: …, rpC: … }
 */
export function mergeSession(base: SessionPayload, ours: SessionPayload, theirs: SessionPayload): SessionPayload {
  if (ours.accountId !== theirs.accountId) return ours.accountId !== base.accountId ? ours : theirs;
  const merged = threeWay(base, ours, theirs, (key) => key !== AUTHORIZATIONS);
  const authorizations = threeWay(entriesOf(base), entriesOf(ours), entriesOf(theirs), () => true);
  return { ...merged, [AUTHORIZATIONS]: authorizations };
}

/** Each key of `ours` or `theirs` (those `only` selects): ours when it differs from `base`, else theirs. */
function threeWay(base: Entries, ours: Entries, theirs: Entries, only: (key: string) => boolean): Entries {
  const merged: Entries = {};
  for (const key of new Set([...Object.keys(theirs), ...Object.keys(ours)])) {
    if (!only(key)) continue;
    const value = sameJson(ours[key], base[key]) ? theirs[key] : ours[key];
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
