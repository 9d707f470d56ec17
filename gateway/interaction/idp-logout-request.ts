/**
 * IdP-initiated Single Logout (a `logout` route, direction `request`; `upstream-logout.ts` has the whole): the
 * adapter its message names verifies it, the sessions it names are ended, its signed answer goes back by the IdP's
 * binding. A refusal is audited with its code and ends nothing: answered to the IdP when the adapter says so
 * (`AnsweredLogoutRefusal`), else the error page with the status the error registry gives its code. A dependency
 * unavailable on the way (the HSM busy signing the answer) is no refusal: its registry 503 with Retry-After.
 *
 * Order of an IdP-initiated logout: verify, **end the sessions, then sign the answer**; when the session ended stood
 * on logins at other IdPs too, the browser goes to each of them first, and brings the answer last
 * (`idp-logout-onward.ts`). Ending them is the
 * security-relevant act and must not hang on the HSM. Signing first would leave them alive whenever the signature
 * fails. So when the answer cannot be signed (HSM busy: 503 + Retry-After; another signing fault: 500), the
 * sessions stay ended and the audit says so: `UPSTREAM_LOGOUT_UNANSWERED` with the code, `sessions`, `attempt`
 * and `kept` (never `UPSTREAM_LOGOUT_REFUSED`, which means nothing was ended). No answer goes back: any answer, a
 * partial-logout status included, needs the signature that just failed (the Single Logout profile: the responder
 * signs), and a partial-logout status (the core spec, §3.7.3.2) is what a session authority reports about *other*
 * participants, not a participant's own state.
 *
 * The retry the Retry-After invites gets the answer (the adapter kept what it needs to sign it again, beside
 * the request's replay key for as long as the request may pass its time window: `UpstreamLogout.answerLogout`
 * in the contract):
 *
 * | the same request sent again                          | outcome | audit |
 * |------------------------------------------------------|---------|-------|
 * | its answer was not signed, and it passes every check again (signature, issuer, destination, time window; same signed values and relay value) | the kept answer signed now; **no session ended** (one opened since survives) | `UPSTREAM_LOGOUT_ANSWERED_ON_RETRY`, `sessions` (ended by the first attempt), `endedNow: 0` |
 * | the same, and the HSM busy again                     | 503 + Retry-After again, the answer kept again | `UPSTREAM_LOGOUT_UNANSWERED`, `attempt: 'retry'`, `endedNow: 0` |
 * | its answer was signed but its audit record could not be written | not sent; kept again (`LogoutAnswer.keep`), the audit's error (500/503) | none (the audit failing) |
 * | the store failing as the retry takes the kept answer, or a kept value that is not the adapter's | refused, the page, 500 | `UPSTREAM_LOGOUT_REFUSED` with the adapter's internal-error code |
 * | ending its sessions failed, all or some (the first attempt audited with the true count ended, `failed` and the failure's code) | the rest ended now, then answered as a first attempt (one retry takes the adapter's mark; the store failing to mark it: a replay) | `UPSTREAM_LOGOUT_ANSWERED`, `sessions` ended now |
 * | its answer was signed and sent (or nothing kept: the store refused it, `kept: false`) | a replay, the page, 400 | `UPSTREAM_LOGOUT_REFUSED` with its adapter's replay code |
 * | fails a check, or other signed values / relay value under the same ID | refused with that check's code (a replay for another message under the ID); the kept answer stays | `UPSTREAM_LOGOUT_REFUSED` |
 *
 * Two copies at once from the first attempt's browser: one takes the kept answer, the other is a replay; a copy from
 * another browser reads it and leaves it in place (`takesKeptAnswer`, idp-logout-onward-due.ts). Without an answer
 * at all (the retries exhausted, the window passed), the IdP counts us as unconfirmed and reports a partial logout
 * to its own requester: true, since our sessions are ended but we never confirmed it.
 */
import type { Context } from 'koa';
import {
  AdapterError,
  AnsweredLogoutRefusal,
  UnansweredLogout,
  type InboundLogoutMessage,
  type LogoutAnswer,
  type UpstreamLogoutRequest,
} from '../../adapters/contract.ts';
import type { LogoutRoute } from '../../adapters/contract/routes.ts';
import { errorSpec } from '../error-registry.ts';
import { GatewayError } from '../errors.ts';
import { markFailed } from '../ratelimit/scoped.ts';
import { SessionsPartlyEnded, type EndedSession } from '../session/upstream-sessions.ts';
import { askOtherIdps, sessionToAskOn } from './idp-logout-onward.ts';
import { keepOnwardDue, mayTakeKeptAnswer, otherBrowser, takeOnwardDue } from './idp-logout-onward-due.ts';
import { unavailableCodeWithin } from './unavailable-mid-login.ts';
import { audit, refused } from './upstream-logout-audit.ts';
import {
  adapterAmong,
  naming,
  refusal,
  send,
  siblingsOf,
  signedOut,
  upstreamSessions,
  type Deps,
  type OfferingAdapter,
} from './upstream-logout-parts.ts';

/**
 * The IdP's LogoutRequest: verified, its sessions ended, then its answer signed and sent (audited first).
 *
 * @example
 * if (direction === 'request') return logoutRequest(ctx, services, route, message);
 */
export async function logoutRequest(
  ctx: Context,
  services: Deps,
  route: LogoutRoute,
  message: InboundLogoutMessage,
): Promise<void> {
  let adapter: OfferingAdapter | undefined;
  let ended = 0;
  let endedSessions: EndedSession[] = [];
  let answer: LogoutAnswer;
  // the adapter was told to leave its kept answer in place (another browser's copy): nothing to keep again
  let leftInPlace = false;
  // the entries of the sending IdP (one IdP may have several), each asked once
  let siblings: string[] = [];
  try {
    const named = naming(services, message);
    const offering = adapterAmong(named, route);
    siblings = siblingsOf(named, offering);
    adapter = offering;
    // a copy of an unanswered request from another browser leaves its kept answer to the first browser's retry
    const retry = {
      takesKeptAnswer: async (retryKey: string) => {
        const takes = await mayTakeKeptAnswer(ctx, services, offering.id, retryKey);
        if (!takes) leftInPlace = true;
        return takes;
      },
    };
    // the subject's sessions that came through this entry, and through every other entry of the same IdP (an
    // eIDAS node's natural- and legal-person logins): the IdP's logout names its subject, not our entry
    const entries = [offering.id, ...siblings];
    const end = async (request: UpstreamLogoutRequest): Promise<number> => {
      ended = 0;
      endedSessions = [];
      for (const idp of entries) {
        try {
          const named = await upstreamSessions(services).endNamed({ ...request, idp });
          ended += named.ended;
          endedSessions.push(...named.sessions);
        } catch (error) {
          // some ended before the others failed: they stay ended, and the audit says how many
          if (error instanceof SessionsPartlyEnded) ended += error.ended;
          throw error;
        }
      }
      return ended;
    };
    answer = await offering.logout.answerLogout(message, end, retry);
  } catch (error) {
    const unavailable = unavailableCodeWithin(error);
    // sessions ended by this message, or by its first attempt (a retry whose kept answer could not be signed either)
    const unanswered = error instanceof UnansweredLogout ? error : undefined;
    const sessions = unanswered?.sessions ?? ended;
    if (sessions > 0 || unavailable !== undefined || !(error instanceof AdapterError)) {
      // the session it ended (of several, this browser's: idp-logout-onward.ts), for its retry (once answered) to
      // ask that session's other IdPs: kept before the audit, which may fail (idp-logout-onward-due.ts)
      if (unanswered?.attempt === 'first' && unanswered.kept && adapter) {
        const idp = adapter.id;
        const [own] = await sessionToAskOn(ctx, services, idp, endedSessions);
        if (own)
          await keepOnwardDue(ctx, services, idp, unanswered.retryKey, own).catch((err: unknown) =>
            services.logger.warn({ err, idp }, "an unanswered IdP logout's other IdPs not kept for its retry"),
          );
      }
      // not a refusal of the message. Sessions ended (only the signed answer failed after): they stay ended and
      // the record says how many; else a dependency gone before anything ended (PostgreSQL while ending), or a
      // fault of ours (INTERNAL): never rethrown unaudited
      const code = unavailable ?? (error instanceof AdapterError ? error.code : 'INTERNAL');
      await audit(
        ctx,
        services,
        sessions > 0 ? 'UPSTREAM_LOGOUT_UNANSWERED' : 'UPSTREAM_LOGOUT_UNAVAILABLE',
        adapter?.id,
        code,
        {
          sessions,
          ...(unanswered ? { attempt: unanswered.attempt, kept: unanswered.kept } : {}),
          ...(error instanceof SessionsPartlyEnded ? { failed: error.failed } : {}),
          // a retry ended nothing now (its sessions are the first attempt's), as on UPSTREAM_LOGOUT_ANSWERED_ON_RETRY
          ...(unanswered?.attempt === 'retry' ? { endedNow: ended } : {}),
          detail: error instanceof AdapterError ? error.detail : error instanceof Error ? error.message : String(error),
        },
      );
      services.logger.warn({ err: error, code, idp: adapter?.id, sessions }, 'IdP logout request not answered');
      // the registry's 503 (Retry-After for HSM_BUSY and DATABASE_UNAVAILABLE, http/error-handler.ts), else its status
      if (unavailable !== undefined)
        throw new GatewayError(unavailable, errorSpec(unavailable).status, 'The logout could not be answered now.', {
          cause: error,
        });
      if (error instanceof AdapterError) throw refusal(error, 'The logout could not be answered.');
      throw error;
    }
    const reply = error instanceof AnsweredLogoutRefusal ? error.reply : undefined;
    await refused(ctx, services, 'UPSTREAM_LOGOUT_REFUSED', adapter?.id, error, {
      answered: reply !== undefined,
    });
    // a verified IdP is told, by its own endpoint, that we refused (nothing was ended); anyone else gets the page.
    // Answered or not, it is a refusal: it charges the address's failures bucket like the page's 400
    if (reply) {
      markFailed(ctx);
      return send(ctx, reply);
    }
    throw refusal(error, 'The logout request was refused.');
  }
  // a retry: its sessions were ended by the first attempt, nothing now (`ended` is 0); the answer is signed now
  try {
    await audit(
      ctx,
      services,
      answer.attempt === 'retry' ? 'UPSTREAM_LOGOUT_ANSWERED_ON_RETRY' : 'UPSTREAM_LOGOUT_ANSWERED',
      adapter.id,
      undefined,
      answer.attempt === 'retry' ? { sessions: answer.sessions, endedNow: ended } : { sessions: ended },
    );
  } catch (error) {
    // no answer goes out unaudited; kept for the IdP's retry, which else would be a replay never answered
    const kept = answer.reply === null ? false : await answer.keep();
    services.logger.warn({ err: error, idp: adapter.id, kept }, 'IdP logout answer not sent: its audit failed');
    throw error;
  }
  // the session's other IdPs first, then this answer (`idp-logout-onward.ts`); a retry, those of the session its
  // unanswered first attempt ended (`idp-logout-onward-due.ts`)
  const askedOn =
    answer.attempt === 'retry'
      ? await dueOnRetry(ctx, services, adapter.id, answer, leftInPlace)
      : await sessionToAskOn(ctx, services, adapter.id, endedSessions);
  const onward = await askOtherIdps(ctx, services, adapter.id, askedOn, answer.reply, siblings);
  if (onward) {
    // the answer reaches the IdP only at the end of the chain, if the browser gets there: kept for its own retry too
    if (answer.reply !== null && !(await answer.keep().catch(() => false)))
      services.logger.warn({ idp: adapter.id }, 'IdP logout answer not kept for a retry');
    return send(ctx, onward);
  }
  if (answer.reply === null) return signedOut(ctx);
  send(ctx, answer.reply);
}

/**
 * The session a retried request's first attempt ended, to ask on from (none: nothing kept, another browser, the store
 * failing). Another browser's copy is answered at once, then audited (an audit failing is the request's error, as for
 * every answer): the adapter left its kept answer in place (`leftInPlace`), or, one that does not ask, took it, and it
 * is kept again for the first browser's own retry.
 */
async function dueOnRetry(
  ctx: Context,
  services: Deps,
  idp: string,
  answer: LogoutAnswer,
  leftInPlace: boolean,
): Promise<EndedSession[]> {
  let due: EndedSession[] | 'other-browser';
  try {
    due = await takeOnwardDue(ctx, services, idp, answer.retryKey);
  } catch (err) {
    services.logger.warn({ err, idp }, "a retried IdP logout's other IdPs could not be read: answered at once");
    return [];
  }
  if (due !== 'other-browser') return due;
  // kept again only if taken: an answer the first browser took meanwhile is not brought back
  if (!leftInPlace && answer.reply !== null && !(await answer.keep().catch(() => false)))
    services.logger.warn({ idp }, 'IdP logout answer not kept for the first browser');
  await otherBrowser(ctx, services, idp);
  return [];
}
