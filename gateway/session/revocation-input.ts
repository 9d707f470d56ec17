/**
 * What an operator gives a revocation, checked the same way by the admin API (`admin/revocation-routes.ts`) and the
 * session CLI (`session/cli.ts`): the instant of an `issued_before` revocation, and the reason every revocation
 * carries into PostgreSQL and the audit chain.
 */
import { hidesSomething } from '../audit/operator-text.ts';

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The instant of an `issued_before` revocation (a key-compromise time), as the admin API and the CLI take it: an
 * ISO 8601 instant with its zone (one without is read in the server's zone: a compromise time typed without it
 * can miss hours of sessions), not in the future. Returns the reason it is refused otherwise.
 *
 * @example
 * revocationInstant('2026-12-01T08:00Z', new Date()) // Date
 * revocationInstant('2026-12-01T08:00', new Date())  // 'issued_before takes an ISO 8601 instant with a zone'
 */
export function revocationInstant(value: string, now: Date): Date | string {
  const instant = new Date(value);
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  // a day the month does not have (2026-02-31) would be read as another day (3 March)
  const realDay = day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (!INSTANT.test(value) || Number.isNaN(instant.getTime()) || !realDay)
    return 'issued_before takes an ISO 8601 instant with a zone';
  if (instant.getTime() > now.getTime()) return 'issued_before must not be in the future';
  return instant;
}

/** The longest reason a revocation takes, in characters. */
export const REASON_MAX = 500;

/**
 * The reason of a revocation, trimmed, or why it is refused: empty, longer than {@link REASON_MAX} characters, or
 * holding a control or invisible character (`audit/operator-text.ts`).
 *
 * @example
 * revocationReason(' key compromise ') // { reason: 'key compromise' }
 * revocationReason('x\u0000')          // { problem: 'reason must not hold a control or invisible character' }
 */
export function revocationReason(value: unknown): { reason: string } | { problem: string } {
  if (typeof value !== 'string' || value.trim().length === 0 || [...value].length > REASON_MAX)
    return { problem: `reason must be 1 to ${REASON_MAX} characters` };
  if (hidesSomething(value)) return { problem: 'reason must not hold a control or invisible character' };
  return { reason: value.trim() };
}
