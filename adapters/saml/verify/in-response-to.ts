/**
 * Step 8, InResponseTo (SAML-IRT-01/02/03). Binds the message to the login that started it.
 *
 * - Read only from signed bytes: SubjectConfirmationData/@InResponseTo of the signed Assertion and
 *   Response/@InResponseTo when the Response is signed. None → `SAML_UNSOLICITED`; disagreeing values
 *   (including an unsigned Response value) → `SAML_INRESPONSETO_MISMATCH`.
 * - `state.take('saml:pending:<id>')` consumes the pending request atomically (`SAML_INRESPONSETO_UNKNOWN`).
 * - Its browser binding must equal the inbound one (`SAML_INRESPONSETO_SESSION_MISMATCH`, no loginId:
 *   another browser's login is never answered here). From then on every error carries the loginId.
 * - It must be for this IdP (`SAML_INRESPONSETO_MISMATCH`) and younger than 10 minutes
 *   (`SAML_INRESPONSETO_EXPIRED`).
 */
import { samlError } from '../errors.ts';
import { CM_BEARER } from '../xml/namespaces.ts';
import { instant, need, PENDING_TTL_SECONDS, type PendingRequest, type VerifyContext } from './context.ts';

export async function bindPendingRequest(ctx: VerifyContext): Promise<void> {
  const envelope = need(ctx.envelope, 'envelope');
  const signedValues = new Set<string>();
  if (envelope.signed && envelope.inResponseTo) signedValues.add(envelope.inResponseTo);
  for (const confirmation of ctx.claims?.confirmations ?? []) {
    if (confirmation.method === CM_BEARER && confirmation.inResponseTo) signedValues.add(confirmation.inResponseTo);
  }
  if (signedValues.size === 0) throw samlError('SAML_UNSOLICITED', { detail: 'no signed InResponseTo' });
  if (signedValues.size > 1)
    throw samlError('SAML_INRESPONSETO_MISMATCH', { detail: 'signed InResponseTo values differ' });
  const requestId = [...signedValues][0]!;
  if (!envelope.signed && envelope.inResponseTo !== undefined && envelope.inResponseTo !== requestId) {
    throw samlError('SAML_INRESPONSETO_MISMATCH', { detail: 'Response InResponseTo differs from the signed one' });
  }

  const stored = await ctx.env.state.take(`saml:pending:${requestId}`);
  if (stored === null) throw samlError('SAML_INRESPONSETO_UNKNOWN', { detail: `request ${requestId}` });
  const pending = parsePending(stored);
  if (pending.browserBinding !== ctx.message.browserBinding) {
    throw samlError('SAML_INRESPONSETO_SESSION_MISMATCH', { detail: `request ${requestId}` });
  }
  ctx.requestId = requestId;
  ctx.pending = pending;
  ctx.loginId = pending.loginId;
  if (pending.idp !== ctx.env.idp.id)
    throw samlError('SAML_INRESPONSETO_MISMATCH', { detail: `request was for ${pending.idp}` });
  const age = ctx.env.now.getTime() - instant(pending.issuedAt, 'pending issuedAt');
  if (age > (PENDING_TTL_SECONDS + ctx.env.idp.clockSkewSeconds) * 1000) {
    throw samlError('SAML_INRESPONSETO_EXPIRED', { detail: `request ${requestId} is ${Math.round(age / 1000)} s old` });
  }
}

function parsePending(stored: string): PendingRequest {
  const value = JSON.parse(stored) as Partial<PendingRequest>;
  if (
    typeof value.loginId !== 'string' ||
    typeof value.browserBinding !== 'string' ||
    typeof value.idp !== 'string' ||
    typeof value.issuedAt !== 'string'
  ) {
    throw samlError('SAML_INTERNAL_ERROR', { detail: 'pending request record is malformed' });
  }
  return value as PendingRequest;
}
