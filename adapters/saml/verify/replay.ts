/**
 * Step 7, replay cache (SAML-RPL-01), shared by every gateway instance through the state store.
 *
 * - Key `saml:assertion:<issuer>:<assertionId>`, written with `putIfAbsent`; an existing key is a
 *   replay (`SAML_REPLAY`).
 * - Runs on signed IDs only (after step 5), so an attacker cannot burn IDs with forged messages, and
 *   before the pending request is bound, so a replay is never attributed to anyone's login.
 * - Kept until the latest NotOnOrAfter + skew (at least 1 s; 1 h when the assertion gives none,
 *   which step 11 refuses anyway), and never longer than the assertion can be accepted at all: step 13 refuses it
 *   once its IssueInstant (at most now + skew) is older than MAX_MESSAGE_AGE_SECONDS + skew. A far-future
 *   NotOnOrAfter (an IdP's mistake) left a key per login for years.
 * - The next step's take of the pending request is sent beside the mark, in the same Redis write (issue #14); its
 *   answer is read only after the mark's, so a replay is still `SAML_REPLAY`, attributed to no login.
 * - `rejectReplayedResponse`: a signed Response's own ID, checked by the decrypt step before an EncryptedAssertion
 *   costs an HSM operation (`saml:response:<issuer>:<responseId>`, kept 1 h): a replayed signed Response is
 *   `SAML_REPLAY` without being decrypted again.
 */
import { samlError } from '../errors.ts';
import { attr } from '../xml/dom.ts';
import { instant, need, type VerifyContext } from './context.ts';
import { startTakingPendingRequest } from './in-response-to.ts';
import { MAX_MESSAGE_AGE_SECONDS } from './time-window.ts';

const FALLBACK_TTL_SECONDS = 3600;
/** Beyond the last instant an assertion can be accepted: instances' clocks differ a little. */
const ACCEPTANCE_MARGIN_SECONDS = 60;

export async function rejectReplay(ctx: VerifyContext): Promise<void> {
  if (!ctx.claims) return; // a Response without an Assertion carries nothing replayable
  const claims = ctx.claims;
  const issuer = need(ctx.issuer, 'issuer');
  const ends = [claims.conditions.notOnOrAfter, ...claims.confirmations.map((c) => c.notOnOrAfter)]
    .filter((v): v is string => v !== undefined)
    .map((v) => instant(v, 'NotOnOrAfter'));
  const skew = ctx.env.idp.clockSkewSeconds;
  const byConditions =
    ends.length === 0
      ? FALLBACK_TTL_SECONDS
      : Math.max(1, Math.ceil((Math.max(...ends) - ctx.env.now.getTime()) / 1000) + skew);
  const ttl = Math.min(byConditions, MAX_MESSAGE_AGE_SECONDS + 2 * skew + ACCEPTANCE_MARGIN_SECONDS);
  const marking = ctx.env.state.putIfAbsent(`saml:assertion:${issuer}:${claims.id}`, '1', ttl);
  startTakingPendingRequest(ctx); // the next step's take, in this write
  if (!(await marking)) throw samlError('SAML_REPLAY', { detail: `assertion ${claims.id}` });
}

/**
 * Refuses a signed Response seen before (`SAML_REPLAY`), by its signed ID; called before decryption.
 *
 * @example
 * if (ctx.signed.response) await rejectReplayedResponse(ctx);
 */
export async function rejectReplayedResponse(ctx: VerifyContext): Promise<void> {
  const id = attr(need(ctx.response, 'response'), 'ID');
  if (!ctx.signed.response || !id) return;
  const fresh = await ctx.env.state.putIfAbsent(
    `saml:response:${need(ctx.issuer, 'issuer')}:${id}`,
    '1',
    FALLBACK_TTL_SECONDS,
  );
  if (!fresh) throw samlError('SAML_REPLAY', { detail: `response ${id}` });
}
