/**
 * Identifiers of people.
 * - `accountId`: the gateway's internal id of a person, an HMAC of the pivot identity with field
 *   separators (FranceConnect concatenates without separators: "Jean"+"Pierre…" is ambiguous). The same
 *   person gets the same id whichever IdP they use; acting for a legal person, one id per company.
 * - pairwise `sub`: HMAC(pairwise salt, sector ‖ accountId), so two RPs in different sectors cannot
 *   correlate a person, and the same RP always sees the same `sub`.
 */
import { createHmac } from 'node:crypto';
import type { PivotIdentity } from '../translate/pivot-identity.ts';
import { PERSON_CLAIMS } from '../translate/scope-claims.ts';

export function accountIdOf(pivot: PivotIdentity, key: string): string {
  const fields: string[] = ['account-v1', ...PERSON_CLAIMS.map((claim) => pivot[claim])];
  // A company representative acting for a legal person is a distinct account per company: otherwise a
  // login for company B would overwrite the stored claims a session for company A is served.
  if (pivot.legal_person_identifier !== undefined) fields.push('legal', pivot.legal_person_identifier);
  return createHmac('sha256', key).update(JSON.stringify(fields)).digest('base64url');
}

export function pairwiseSub(accountId: string, sector: string, salt: string): string {
  return createHmac('sha256', salt).update(`sub-v1\u0000${sector}\u0000${accountId}`).digest('base64url');
}
