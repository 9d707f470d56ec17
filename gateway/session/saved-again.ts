/**
 * What tells a record saved again from one saved unchanged (`SessionStore`'s check before a write): oidc-provider
 * saves a session at the end of every request that read it, only to slide its expiry, and an SSO login saves the
 * session's grant again as read. The payloads are compared in a canonical JSON form, the expiries within bounds.
 */
import type { RecordKeys } from './record-keys.ts';
import type { PutInput } from './session-store-types.ts';
import type { StoredRecord } from './stored-record.ts';

/**
 * How much later (seconds) a session re-saved unchanged may expire before its expiry is written: a
 * twentieth of its life, at most 5 minutes (8 h sessions: 5 minutes).
 */
export const slidingTolerance = (expiresIn: number): number => Math.min(300, expiresIn / 20);

/** A payload's JSON, object keys sorted (oidc-provider does not keep their order across saves). */
export const canonical = (payload: unknown): string =>
  JSON.stringify(payload, (_key, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );
/** A payload's JSON without its `exp`, object keys sorted. */
export const withoutExpiry = (payload: unknown): string => canonical({ ...(payload as object), exp: undefined });

/**
 * How far (ms) a grant saved again unchanged, `exp` included, may be asked to expire from the expiry of its
 * stored row: oidc-provider saves it for the seconds left until its `exp`, so the two differ by the rounding of
 * those seconds and the time between the two saves, never more. So may a session at its absolute end (saved for
 * the seconds left until that end) be asked to expire before its stored expiry.
 */
export const SAME_EXPIRY_MS = 2000;

/**
 * Whether `input` saves `before` (the record as this request read it, `text` its opened payload) again unchanged:
 * an active record with the same pointers, the same payload (a session's `exp` aside), and an expiry within the
 * bounds above (a session's later by at most {@link slidingTolerance}, or earlier by the rounding of a capped one's
 * seconds; a grant's the same, within {@link SAME_EXPIRY_MS}).
 */
export async function savedUnchanged(
  input: PutInput,
  before: StoredRecord,
  text: Promise<string>,
  keys: RecordKeys,
): Promise<boolean> {
  if (before.state !== 'active') return false;
  const session = input.kind === 'Session';
  const later = Date.now() + input.expiresIn * 1000 - before.expiresAt.getTime();
  // a session at its absolute end is saved for the whole seconds left until it: up to a second earlier than stored
  const latest = session ? slidingTolerance(input.expiresIn) * 1000 : SAME_EXPIRY_MS;
  if (!(later >= -SAME_EXPIRY_MS && later <= latest)) return false;
  const same = (a: Buffer | null, b: Buffer | null) => (a && b ? a.equals(b) : a === b);
  const sids = (input.sids ?? []).map((sid) => keys.key('sid', sid));
  if (
    !same(before.lookupKey, input.lookupId ? keys.key('jti', input.lookupId) : null) ||
    !same(before.grantKey, input.grantId ? keys.key('Grant', input.grantId) : null) ||
    !same(before.accountKey, input.accountId ? keys.key('account', input.accountId) : null) ||
    (before.idp ?? null) !== (input.idp ?? null) ||
    // the stored row may hold more sids than this save names (two saves at once keep both: migration 0760)
    sids.some((k) => !before.sidKeys.some((stored) => stored.equals(k)))
  )
    return false;
  const opened = await text.catch(() => null);
  const form = session ? withoutExpiry : canonical;
  return opened !== null && form(JSON.parse(opened)) === form(input.payload);
}
