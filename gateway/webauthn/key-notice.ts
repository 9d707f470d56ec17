/**
 * What a person is told about the keys of their account wherever one is about to be used or added (the
 * confirm-it-is-you page, the confirm-with-an-existing-key page): each key with the date it was added, and
 * what to do about one they do not recognise. A key enrolled with someone else's password is seen the next
 * time the person is asked for theirs (issue #10 item 10); the account page (account-page.ts) shows more.
 */
import { credentialRef, type StoredCredential } from './credential-store.ts';

/** A date as the pages show it: `2026-12-04 05:30 UTC`, or `never`. */
export const shownDate = (d: Date | null | undefined): string =>
  d ? d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : 'never';

/** What a key is, in words a person uses. */
export const kindOf = (c: StoredCredential): string =>
  c.attachment === 'cross-platform' ? 'security key' : 'this kind of device';

/**
 * One sentence listing the keys (plain text: the page escapes it).
 *
 * @example
 * keysNotice([credential]) // 'Keys registered for you: security key added 2026-12-04 05:30 UTC (reference ungWv48Bz-pBQUDe). If ...'
 */
export function keysNotice(credentials: StoredCredential[]): string {
  if (credentials.length === 0) return '';
  const listed = credentials
    .map(
      (c) =>
        `${kindOf(c)} added ${shownDate(c.createdAt)} (reference ${credentialRef(c.credentialId)}${c.suspendedAt ? ', suspended' : ''})`,
    )
    .join('; ');
  return `Keys registered for you: ${listed}. If you do not recognise one, someone may know your password: do not continue, and give its reference to the service desk.`;
}
