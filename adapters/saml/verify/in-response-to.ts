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
 * - `admitDecryption`: the same checks, on the received Response's value, without taking the request, run by
 *   the decrypt step before an EncryptedAssertion costs an HSM operation; one decryption per request.
 * - The take leaves in the replay step's Redis write (`startTakingPendingRequest`; issue #14).
 */
import { fromTheSameBrowser } from '../../contract.ts';
import { samlError } from '../errors.ts';
import { attr } from '../xml/dom.ts';
import { CM_BEARER } from '../xml/namespaces.ts';
import { instant, need, PENDING_TTL_SECONDS, type PendingRequest, type VerifyContext } from './context.ts';

/**
 * The request the signed values name: `SAML_UNSOLICITED` when none does, `SAML_INRESPONSETO_MISMATCH` when they
 * disagree or an unsigned Response names another.
 */
function signedRequestId(ctx: VerifyContext): string {
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
  return requestId;
}

/**
 * Sends the take of the pending request the signed values name now, in the caller's turn: the replay step's mark
 * and this take leave in one Redis write (issue #14). {@link bindPendingRequest} reads its answer and makes every
 * check, in the same order; nothing is sent when the signed values name no single request (that step refuses it).
 * A replay names a request its first use took already, so a take sent beside the replay's mark takes nothing, but
 * for one case: two posts of one Response at once, on two connections (two workers or instances, or Redis
 * Cluster, where the two keys are on different nodes), where one may win the mark and the other the take. Both
 * then fail (`SAML_INRESPONSETO_UNKNOWN`, `SAML_REPLAY`) and the login ends when its flow expires, where before the
 * mark's winner finished it. The person's browser shows the later post's answer either way: a refusal.
 *
 * @example
 * startTakingPendingRequest(ctx); // beside the replay mark; then bindPendingRequest(ctx)
 */
export function startTakingPendingRequest(ctx: VerifyContext): void {
  let requestId: string;
  try {
    requestId = signedRequestId(ctx);
  } catch {
    return;
  }
  const taking = ctx.env.state.take(`saml:pending:${requestId}`);
  taking.catch(() => undefined); // read (and its failure thrown) by bindPendingRequest
  ctx.pendingTake = { requestId, taking };
}

export async function bindPendingRequest(ctx: VerifyContext): Promise<void> {
  const requestId = signedRequestId(ctx);
  const sent = ctx.pendingTake?.requestId === requestId ? ctx.pendingTake.taking : undefined;
  const stored = await (sent ?? ctx.env.state.take(`saml:pending:${requestId}`));
  const pending = ownPending(ctx, requestId, stored);
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

/**
 * Before an EncryptedAssertion is decrypted (an HSM operation), its Response's InResponseTo must name a pending
 * request of this browser and this IdP, read without taking it (the signed value binds it after decryption,
 * above), and that request may have one decryption only. Anyone can encrypt to our public key, and anyone can
 * keep a signed Response of their own: without this, one RelayState let a stranger spend an HSM unwrap per POST.
 * None → `SAML_UNSOLICITED`; a request already decrypted for → `SAML_INRESPONSETO_UNKNOWN`; the other codes as above.
 *
 * The read and the once-only mark leave in one Redis write, the signed Response's replay mark with them (the
 * decrypt step sends both in one turn; issue #14). The mark is keyed by this IdP and this browser too, so a
 * stranger's Response naming someone's request marks only its own key and spends nothing of theirs; a mark set
 * for a request that is not this browser's pending one, or by a Response `replay` refuses, is removed. `replay`:
 * the signed Response's replay check, sent in the same turn; its refusal is thrown first.
 *
 * @example
 * await admitDecryption(ctx, rejectReplayedResponse(ctx)); // then decryptAssertion(…)
 */
export async function admitDecryption(ctx: VerifyContext, replay: Promise<void>): Promise<void> {
  const requestId = attr(need(ctx.response, 'response'), 'InResponseTo');
  if (!requestId) {
    await replay;
    throw samlError('SAML_UNSOLICITED', { detail: 'a Response with an EncryptedAssertion names no request' });
  }
  const { state, idp } = ctx.env;
  const mark = `saml:decrypted-for:${idp.id}:${requestId}:${ctx.message.browserBinding}`;
  const [read, marked] = await Promise.allSettled([
    state.get(`saml:pending:${requestId}`),
    state.putIfAbsent(mark, '1', PENDING_TTL_SECONDS + idp.clockSkewSeconds),
  ]);
  const first = marked.status === 'fulfilled' && marked.value;
  try {
    await replay; // a replayed signed Response is SAML_REPLAY, and spends no decryption of the request it names
    if (read.status === 'rejected') throw read.reason;
    if (marked.status === 'rejected') throw marked.reason;
    const pending = ownPending(ctx, requestId, read.value);
    if (pending.idp !== idp.id)
      throw samlError('SAML_INRESPONSETO_MISMATCH', { detail: `request was for ${pending.idp}` });
  } catch (error) {
    // the mark this call set is removed (lost, it expires with the request): the error stays the one above
    if (first) await state.take(mark).catch(() => undefined);
    throw error;
  }
  if (!first) throw samlError('SAML_INRESPONSETO_UNKNOWN', { detail: `request ${requestId} was answered already` });
}

/** The pending request `stored` under `requestId`, which must exist and be this browser's. */
function ownPending(ctx: VerifyContext, requestId: string, stored: string | null): PendingRequest {
  if (stored === null) throw samlError('SAML_INRESPONSETO_UNKNOWN', { detail: `request ${requestId}` });
  const pending = parsePending(stored);
  if (!fromTheSameBrowser(pending.browserBinding, ctx.message)) {
    throw samlError('SAML_INRESPONSETO_SESSION_MISMATCH', { detail: `request ${requestId}` });
  }
  return pending;
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
