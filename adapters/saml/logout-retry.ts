/**
 * The answer to an IdP's LogoutRequest that could not be signed, kept for the same request sent again
 * (IdP-initiated Single Logout: the sessions were ended, the HSM could not sign the LogoutResponse, the gateway
 * answered 503 with Retry-After). Without it the retry the Retry-After invites is refused as a replay and the
 * IdP never gets its answer.
 *
 * | when                                              | what |
 * |---------------------------------------------------|------|
 * | sessions ended, the answer's signature failed     | `keepUnanswered`: the answer, unsigned, under `saml:logout:unanswered:<issuer>:<id>` — the replay guard's key for that request ID, `unanswered` beside it — for as long as the guard keeps the ID (until the request could no longer pass the time window): the sessions ended, the status, InResponseTo, the binding and Destination (the IdP's ResponseLocation) chosen, the RelayState, and a digest of the request's signed values |
 * | the same request again                            | it passed every step of the pipeline but `replay` (transport, structure, issuer, signature verified again, read-signed, destination, time window); `takeUnanswered` takes the kept answer (atomically: one retry holds it) when the retry's signed values and RelayState have the kept digest: the answer is signed now, no session is ended |
 * | that signature failing again                      | kept again (`keepUnanswered`) for the rest of the window: 503 again, still retriable |
 * | the answer signed                                 | nothing kept: the same request again is a replay (`SAML_LOGOUT_REPLAYED`), as any request already answered |
 * | a request with a kept ID but other signed values  | not that request: the kept answer is put back, the message refused as a replay |
 *
 * Why beside the replay key and not in it: `take` is the state store's only atomic read-and-claim; taking the
 * replay key itself would leave a moment with no key, in which a copy of the request passes the guard as fresh
 * and ends sessions again (one the person opened since included). The replay key is never removed. No identity
 * is kept in clear: the NameID enters only the digest.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AdapterError } from '../contract.ts';
import { samlError } from './errors.ts';
import { need } from './verify/context.ts';
import type { LogoutStatus } from './logout-response.ts';
import type { LogoutVerifyContext } from './verify-logout/context.ts';
import { LOGOUT_PIPELINE } from './verify-logout/pipeline.ts';
import { logoutReplayKey, logoutReplayTtlSeconds } from './verify-logout/protocol.ts';

/** An answer to a verified LogoutRequest, before it is signed. */
export interface UnsignedLogoutAnswer {
  /** Sessions the request ended (on its first attempt). */
  sessions: number;
  status: LogoutStatus;
  /** The request's ID. */
  inResponseTo: string;
  binding: 'post' | 'redirect';
  /** The IdP's ResponseLocation chosen when the request was first answered. */
  destination: string;
  relayState?: string;
  /** SHA-256 of the request's signed values and RelayState (`requestDigest`). */
  request: string;
}

/**
 * `saml:logout:unanswered:<issuer>:<id>:<digest>`: a message takes only the answer kept for its own signed values
 * and RelayState (the POST binding does not sign RelayState), so a copy with another RelayState takes nothing
 * and nothing is ever put back.
 */
const keyOf = (vctx: LogoutVerifyContext): string =>
  `${logoutReplayKey(need(vctx.signed, 'signed')).replace(/^saml:logout:/, 'saml:logout:unanswered:')}:${requestDigest(vctx)}`;

/**
 * What makes a retry the same request: every value read from its verified bytes, and its RelayState.
 *
 * @example
 * const answer = { ..., request: requestDigest(vctx) };
 */
export function requestDigest(vctx: LogoutVerifyContext): string {
  const s = need(vctx.signed, 'signed');
  const values = [s.id, s.issuer, s.issueInstant, s.destination, s.notOnOrAfter, s.nameId, s.sessionIndexes];
  return createHash('sha256')
    .update(JSON.stringify([...values, vctx.message.params['RelayState'] ?? null]))
    .digest('base64url');
}

/**
 * Keeps an answer that could not be signed, for the rest of the request's validity window; false when the
 * store refused it (a retry will then be refused as a replay: nothing is ended twice either way).
 *
 * @example
 * const kept = await keepUnanswered(vctx, answer);
 */
export async function keepUnanswered(vctx: LogoutVerifyContext, answer: UnsignedLogoutAnswer): Promise<boolean> {
  try {
    await vctx.env.state.put(keyOf(vctx), JSON.stringify(answer), logoutReplayTtlSeconds(vctx));
    return true;
  } catch {
    return false;
  }
}

/**
 * The kept answer of the request a message refused as a replay repeats, taken (one retry at a time), or
 * undefined: nothing kept (answered already, or never unanswered), or the message is not that request. Only a
 * message that passed every step before `replay` may ask.
 *
 * @example
 * const kept = error.code === 'SAML_LOGOUT_REPLAYED' ? await takeUnanswered(vctx) : undefined;
 */
export async function takeUnanswered(vctx: LogoutVerifyContext): Promise<UnsignedLogoutAnswer | undefined> {
  const beforeReplay = LOGOUT_PIPELINE.slice(0, -1).map(([name]) => name);
  if (LOGOUT_PIPELINE.at(-1)?.[0] !== 'replay' || beforeReplay.some((step) => !vctx.passed.includes(step)))
    return undefined;
  const raw = await vctx.env.state.take(keyOf(vctx)).catch(keptAnswerError);
  if (raw === null) return undefined;
  const kept = readKept(raw);
  // the key names the digest: a kept value for another one is not what keepUnanswered wrote
  if (kept.request !== requestDigest(vctx)) keptAnswerError(new Error('kept under another digest'));
  return kept;
}

/** What `keepUnanswered` writes; anything else under the key is refused (`SAML_INTERNAL_ERROR`), never signed. */
const KEPT_ANSWER = z
  .object({
    sessions: z.number().int().min(1),
    status: z.object({ top: z.string(), second: z.string().optional() }).strict(),
    inResponseTo: z.string(),
    binding: z.enum(['post', 'redirect']),
    destination: z.string(),
    relayState: z.string().optional(),
    request: z.string(),
  })
  .strict();

/** The store failing, or a kept value it cannot be: `SAML_INTERNAL_ERROR` (audited as a refusal by the gateway). */
function keptAnswerError(cause: unknown): never {
  if (cause instanceof AdapterError) throw cause;
  throw samlError('SAML_INTERNAL_ERROR', { detail: 'logout retry: kept answer', cause });
}

function readKept(raw: string): UnsignedLogoutAnswer {
  try {
    return KEPT_ANSWER.parse(JSON.parse(raw)) as UnsignedLogoutAnswer;
  } catch (error) {
    return keptAnswerError(error);
  }
}
