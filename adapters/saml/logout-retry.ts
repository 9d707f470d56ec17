/**
 * The answer to an IdP's LogoutRequest that could not be signed, kept for the same request sent again
 * (IdP-initiated Single Logout: the sessions were ended, the HSM could not sign the LogoutResponse, the gateway
 * answered 503 with Retry-After). Without it the retry the Retry-After invites is refused as a replay and the
 * IdP never gets its answer.
 *
 * | when                                              | what |
 * |---------------------------------------------------|------|
 * | sessions ended, the answer's signature failed     | `keepUnanswered`: `{ sessions }` (how many the first attempt ended) under `saml:logout:unanswered:<issuer>:<id>:<digest>` — the replay guard's key for that request ID, `unanswered` beside it, the digest of the request's signed values and RelayState at its end — for as long as the guard keeps the ID (until the request could no longer pass the time window) |
 * | the same request again                            | it passed every step of the pipeline but `replay` (transport, structure, issuer, signature verified again, read-signed, destination, time window); `takeUnanswered` takes the entry of its own digest (atomically: one retry holds it); the answer is built again from the verified request (InResponseTo its ID, its RelayState) and the IdP's current metadata (binding, ResponseLocation), signed now; no session is ended |
 * | that signature failing again                      | kept again (`keepUnanswered`) for the rest of the window: 503 again, still retriable |
 * | the answer signed                                 | nothing kept: the same request again is a replay (`SAML_LOGOUT_REPLAYED`), as any request already answered; the gateway keeps it again (`LogoutAnswer.keep`) when it cannot audit the answer, which then is not sent, and when it sends the browser to the session's other IdPs first (the answer then reaches the IdP only at the end of that chain: `gateway/interaction/idp-logout-onward.ts`) |
 * | a request with a kept ID but other signed values or RelayState | another digest, another key: nothing taken, a replay (its detail says so: `keptForAnother` reads the digest kept under `saml:logout:unanswered-digest:<issuer>:<id>`, written with the answer); the kept answer stays untouched for the real retry |
 * | the store failing, or a value that is not `{ sessions }` | `SAML_INTERNAL_ERROR` (the gateway audits the refusal) |
 *
 * Nothing that goes into the signature is read from the store: whoever can write to Redis cannot have the
 * gateway sign a Success to a Destination, InResponseTo or RelayState of their choice. An entry of the first
 * format (the whole answer under `…:<issuer>:<id>`, never released) is under another key: never read, a replay.
 *
 * Why beside the replay key and not in it: `take` is the state store's only atomic read-and-claim; taking the
 * replay key itself would leave a moment with no key, in which a copy of the request passes the guard as fresh
 * and ends sessions again (one the person opened since included). The replay key is never removed. No identity
 * is kept in clear: the NameID enters only the digest, an HMAC under the adapter's `digestKey` (an unkeyed
 * SHA-256 of the request's values let anyone who read Redis test guessed NameIDs against it).
 *
 * An upgrade reads no entry kept under the former unkeyed digest: such an entry lives only for its request's
 * time window, and a retry missing it is refused as a replay — fail-closed (nothing is ended twice; the IdP,
 * unconfirmed, reports a partial logout as it does once its retries are exhausted).
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { AdapterError } from '../contract.ts';
import { samlError } from './errors.ts';
import { need } from './verify/context.ts';
import type { LogoutVerifyContext } from './verify-logout/context.ts';
import { LOGOUT_PIPELINE } from './verify-logout/pipeline.ts';
import { logoutReplayKey, logoutReplayTtlSeconds } from './verify-logout/protocol.ts';

/** What is kept of an unanswered request: how many sessions its first attempt ended. Nothing else is accepted. */
const KEPT_ANSWER = z.object({ sessions: z.number().int().min(1) }).strict();

/**
 * `saml:logout:unanswered:<issuer>:<id>:<digest>`: a message takes only the answer kept for its own signed values
 * and RelayState (the POST binding does not sign RelayState), so a copy with another RelayState takes nothing
 * and nothing is ever put back.
 */
const keyOf = (vctx: LogoutVerifyContext): string =>
  `${logoutReplayKey(need(vctx.signed, 'signed')).replace(/^saml:logout:/, 'saml:logout:unanswered:')}:${requestDigest(vctx)}`;

/** `saml:logout:unanswered-digest:<issuer>:<id>`: the digest of the request whose answer is kept under the ID. */
const digestKeyOf = (vctx: LogoutVerifyContext): string =>
  logoutReplayKey(need(vctx.signed, 'signed')).replace(/^saml:logout:/, 'saml:logout:unanswered-digest:');

/**
 * What makes a retry the same request: every value read from its verified bytes, and its RelayState, keyed
 * (HMAC-SHA-256 under the adapter's `digestKey`).
 *
 * @example
 * const key = `…:${requestDigest(vctx)}`;
 */
export function requestDigest(vctx: LogoutVerifyContext): string {
  const s = need(vctx.signed, 'signed');
  const values = [s.id, s.issuer, s.issueInstant, s.destination, s.notOnOrAfter, s.nameId, s.sessionIndexes];
  return createHmac('sha256', vctx.env.digestKey)
    .update('logout-request-v2\u0000')
    .update(JSON.stringify([...values, vctx.message.params['RelayState'] ?? null]))
    .digest('base64url');
}

/**
 * Keeps the answer to a request whose `sessions` were ended and whose answer was not sent, for the rest of the
 * request's validity window; false when the store refused it (a retry will then be refused as a replay: nothing
 * is ended twice either way).
 *
 * @example
 * const kept = await keepUnanswered(vctx, sessions);
 */
export async function keepUnanswered(vctx: LogoutVerifyContext, sessions: number): Promise<boolean> {
  const ttl = logoutReplayTtlSeconds(vctx);
  try {
    await vctx.env.state.put(keyOf(vctx), JSON.stringify({ sessions }), ttl);
  } catch {
    return false;
  }
  // which digest is kept under the ID: only to say why a copy with other values is refused (`keptForAnother`)
  await vctx.env.state.put(digestKeyOf(vctx), requestDigest(vctx), ttl).catch(() => undefined);
  return true;
}

/**
 * Whether an answer was kept under this message's ID for another message (other signed values or RelayState):
 * a copy of an unanswered request, altered. Asked only after `takeUnanswered` found nothing for this message;
 * it annotates the replay refusal, so a store failing here is no answer (false).
 *
 * @example
 * if (await keptForAnother(vctx)) throw samlError('SAML_LOGOUT_REPLAYED', { detail: '… not the kept request' });
 */
export async function keptForAnother(vctx: LogoutVerifyContext): Promise<boolean> {
  const kept = await vctx.env.state.get(digestKeyOf(vctx)).catch(() => null);
  return kept !== null && kept !== requestDigest(vctx);
}

/**
 * The sessions the first attempt of the request a message refused as a replay repeats ended, its kept answer
 * taken (one retry at a time); undefined when nothing is kept for this message (answered already, never
 * unanswered, or another message under the ID). Only a message that passed every step before `replay` may ask.
 *
 * @example
 * const sessions = error.code === 'SAML_LOGOUT_REPLAYED' ? await takeUnanswered(vctx) : undefined;
 */
export function takeUnanswered(vctx: LogoutVerifyContext): Promise<number | undefined> {
  return keptUnanswered(vctx, 'take');
}

/**
 * As {@link takeUnanswered}, the kept answer read and left in place: for a copy of the request the caller does not
 * let take it (another browser's: the first browser's own retry still finds it, whatever the timing).
 *
 * @example
 * const sessions = await readUnanswered(vctx);
 */
export function readUnanswered(vctx: LogoutVerifyContext): Promise<number | undefined> {
  return keptUnanswered(vctx, 'get');
}

async function keptUnanswered(vctx: LogoutVerifyContext, how: 'take' | 'get'): Promise<number | undefined> {
  const beforeReplay = LOGOUT_PIPELINE.slice(0, -1).map(([name]) => name);
  if (LOGOUT_PIPELINE.at(-1)?.[0] !== 'replay' || beforeReplay.some((step) => !vctx.passed.includes(step)))
    return undefined;
  const raw = await vctx.env.state[how](keyOf(vctx)).catch(keptAnswerError);
  if (raw === null) return undefined;
  try {
    return KEPT_ANSWER.parse(JSON.parse(raw)).sessions;
  } catch (error) {
    return keptAnswerError(error);
  }
}

/** `saml:logout:unended:<issuer>:<id>:<digest>`: a request whose sessions the gateway could not all end. */
const unendedKeyOf = (vctx: LogoutVerifyContext): string =>
  `${logoutReplayKey(need(vctx.signed, 'signed')).replace(/^saml:logout:/, 'saml:logout:unended:')}:${requestDigest(vctx)}`;

/**
 * Marks a request whose sessions the gateway failed to end (all or some: `end` threw), for the rest of its time
 * window, so that the same request sent again ends the rest instead of being refused as a replay. The store
 * failing here: nothing marked, the retry is a replay (what it was before the mark existed).
 *
 * @example
 * await keepUnended(vctx);
 */
export async function keepUnended(vctx: LogoutVerifyContext): Promise<void> {
  await vctx.env.state.put(unendedKeyOf(vctx), '1', logoutReplayTtlSeconds(vctx)).catch(() => undefined);
}

/**
 * Whether a message refused as a replay repeats a request whose sessions were not all ended; taken atomically
 * (one retry ends them). Only a message that passed every step before `replay` may ask; the store failing is
 * `SAML_INTERNAL_ERROR` (refused, nothing ended: the IdP may retry).
 *
 * @example
 * if (error.code === 'SAML_LOGOUT_REPLAYED' && (await takeUnended(vctx))) sessions = await end(request);
 */
export async function takeUnended(vctx: LogoutVerifyContext): Promise<boolean> {
  const beforeReplay = LOGOUT_PIPELINE.slice(0, -1).map(([name]) => name);
  if (LOGOUT_PIPELINE.at(-1)?.[0] !== 'replay' || beforeReplay.some((step) => !vctx.passed.includes(step)))
    return false;
  return (await vctx.env.state.take(unendedKeyOf(vctx)).catch(keptAnswerError)) !== null;
}

/** The store failing, or a kept value it cannot be: `SAML_INTERNAL_ERROR` (audited as a refusal by the gateway). */
function keptAnswerError(cause: unknown): never {
  if (cause instanceof AdapterError) throw cause;
  throw samlError('SAML_INTERNAL_ERROR', { detail: 'logout retry: kept answer', cause });
}
