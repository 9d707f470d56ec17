/**
 * What is at stake, as the RP states it: RFC 9396 `authorization_details` (validated at the authorization
 * endpoint by transaction-rar.ts, with the same limits as here), e.g.
 * `[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"123.50"}}]`. (The former
 * `risk_transaction` alias is gone: it was scored but never reached the token.)
 *
 * - amounts in EUR only (another currency throws `TRANSACTION_INVALID`: no silent conversion);
 * - tiers: 0 none, 1 under 50 €, 2 50–500 €, 3 500–5,000 €, 4 over 5,000 €; several entries add up.
 */
import { GatewayError } from '../errors.ts';
import type { Transaction } from './types.ts';

/** Upper bounds (exclusive) of tiers 1..3, in euros; above the last is tier 4. */
export const TIER_BOUNDS = [50, 500, 5_000] as const;

/** At most this many authorization details in one request (refused at /auth beyond it). */
export const MAX_AUTHORIZATION_DETAILS = 10;

/**
 * Reads the parameter; `null` when absent. Malformed → `TRANSACTION_INVALID` (400).
 *
 * @example
 * parseTransaction('[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"120"}}]') // { type: 'payment_initiation', amountEur: 120 }
 */
export function parseTransaction(raw: unknown): Transaction | null {
  if (raw === undefined || raw === null || raw === '') return null;
  let details: unknown;
  try {
    details = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch {
    throw new GatewayError('TRANSACTION_INVALID', 400, 'authorization_details is not JSON');
  }
  if (!Array.isArray(details) || details.length === 0 || details.length > MAX_AUTHORIZATION_DETAILS) {
    throw new GatewayError(
      'TRANSACTION_INVALID',
      400,
      `authorization_details must be an array of 1 to ${MAX_AUTHORIZATION_DETAILS} entries`,
    );
  }
  let total: number | null = null;
  let type = '';
  for (const entry of details as unknown[]) {
    if (typeof entry !== 'object' || entry === null || typeof (entry as { type?: unknown }).type !== 'string') {
      throw new GatewayError('TRANSACTION_INVALID', 400, 'each authorization detail needs a type');
    }
    type ||= (entry as { type: string }).type;
    const amount = (entry as { instructedAmount?: { currency?: unknown; amount?: unknown } }).instructedAmount;
    if (amount === undefined) continue;
    if (amount.currency !== 'EUR')
      throw new GatewayError('TRANSACTION_INVALID', 400, 'only EUR amounts are understood');
    const value = Number(amount.amount);
    if (!Number.isFinite(value) || value < 0)
      throw new GatewayError('TRANSACTION_INVALID', 400, 'amount must be a non-negative number');
    total = (total ?? 0) + value;
  }
  return { type, amountEur: total };
}

/**
 * The transaction of an interaction's authorization parameters (`authorization_details`). Malformed →
 * `TRANSACTION_INVALID`: the caller fails the login closed, never scores it as "nothing at stake".
 *
 * @example
 * transactionFromParams(interaction.params) // { type: 'payment_initiation', amountEur: 120 } or null
 */
export function transactionFromParams(params: Record<string, unknown> | undefined): Transaction | null {
  if (!params) return null;
  return parseTransaction(params.authorization_details);
}
/** Tier 0..4 of a transaction. */
export function tierOf(transaction: Transaction | null | undefined): number {
  if (!transaction || transaction.amountEur === null) return 0;
  const index = TIER_BOUNDS.findIndex((bound) => transaction.amountEur! < bound);
  return index === -1 ? 4 : index + 1;
}
