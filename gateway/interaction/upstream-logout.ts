/**
 * Single Logout with the upstream IdPs at the gateway (issue #12 item 6), for any protocol: the protocol declares
 * its logout door (a `logout` route, `adapters/contract/routes.ts`) and each adapter its capability
 * (`UpstreamAdapter.logout`, offered or explicitly not); the sessions are `session/upstream-sessions.ts` and the
 * revocation API. Only typed records cross: `UpstreamSessionRef` out, `UpstreamLogoutRequest` in, `FrontChannel`
 * (or an `AnsweredLogoutRefusal`) back to the browser.
 *
 * | where                                   | what |
 * |-----------------------------------------|------|
 * | a `logout` route, `direction` request   | IdP-initiated: the adapter its message names verifies it; the sessions it names are revoked (the RPs told over the back channel); its signed answer goes back by the IdP's binding. A refusal is audited with its code and ends nothing: answered to the IdP when the adapter says so (`AnsweredLogoutRefusal`, a non-success status), else the error page with the status the error registry gives its code. A dependency unavailable on the way (the HSM busy signing the answer: `HSM_BUSY` under the adapter's own signing-failure code) is no refusal: its registry 503 with Retry-After, audited with that code (`UPSTREAM_LOGOUT_UNANSWERED` once sessions were ended, `UPSTREAM_LOGOUT_UNAVAILABLE` before). The same request sent again after an unanswered one gets the kept answer, nothing ended: `UPSTREAM_LOGOUT_ANSWERED_ON_RETRY`. When the one session it ended stood on logins at other IdPs, the browser goes to each of them first, as in an RP-initiated logout, and brings the answer last (`UPSTREAM_LOGOUT_ANSWER_SENT`) |
 * | a `logout` route, `direction` response  | the IdP's answer to our logout request: verified and audited (a failure with its own code); the browser then goes where oidc-provider sent it (or, at the end of an IdP-initiated logout asked on, with our answer to the IdP that began it), the local logout staying done. The way back unreadable (Redis failing: `FLOW_STORE_UNAVAILABLE`, 503; a value we never wrote: `INTERNAL`, 500) is refused, audited `UPSTREAM_LOGOUT_FAILED` with the code |
 * | oidc-provider `end_session_confirm`     | RP-initiated logout (`upstreamLogoutInProvider`, a provider middleware): once the gateway session is destroyed, the browser is sent to the IdP with our signed logout request, then to the IdP of each earlier login the session stood on (a step-up at another IdP), one at a time; an IdP that takes no part is skipped, audited with its adapter's `notOfferedCode`; a request it cannot sign now is skipped too, audited with the cause (`HSM_BUSY`, not the adapter's signing-failure code) |
 * | oidc-provider `resume`                  | the same middleware links the login's upstream session to the gateway session it went into |
 * | the login-response route (`recordUpstreamLogin`) | the subject, format and session index of each verified login, and the binding of the browser that made it, kept sealed |
 *
 * | file                              | part |
 * |-----------------------------------|------|
 * | `upstream-logout.ts`              | the `logout` route: the message as received, then by its direction |
 * | `idp-logout-request.ts`           | the IdP's LogoutRequest (the order "end the sessions, then sign the answer", and the retry of an unanswered one) |
 * | `idp-logout-response.ts`          | the IdP's LogoutResponse to ours |
 * | `idp-logout-onward.ts`            | an IdP-initiated logout asked on to the other IdPs the ended session stood on, its answer last |
 * | `logout-way-back.ts`              | where the browser goes once the IdP answered ours, kept under our request's relay value (and, for an IdP-initiated logout asked on, the IdP that began it and our answer to it) |
 * | `upstream-logout-in-provider.ts`  | the oidc-provider middleware: RP-initiated logouts sent on to the IdPs |
 * | `upstream-logout-chain.ts`        | the IdPs of one logout (RP-initiated, or an IdP's asked on), asked one after the other (a session that stood on logins at several) |
 * | `upstream-session-records.ts`     | the login-response route's record of each upstream session, linked at `resume` |
 * | `upstream-logout-audit.ts`, `upstream-logout-parts.ts` | the audit records; what the parts share |
 */
import type { Context } from 'koa';
import { AdapterError, type InboundLogoutMessage } from '../../adapters/contract.ts';
import type { LogoutRoute } from '../../adapters/contract/routes.ts';
import { readForm } from '../http/read-form.ts';
import { logoutRequest } from './idp-logout-request.ts';
import { logoutResponse } from './idp-logout-response.ts';
import { refused } from './upstream-logout-audit.ts';
import { refusal, type Deps } from './upstream-logout-parts.ts';

/**
 * A request to a protocol's `logout` route (upstream-routes.ts dispatches it here): the message as received
 * (form or query; the raw query kept, for signatures over it), then by its direction.
 *
 * @example
 * case 'logout': return upstreamLogout(ctx, services, route);
 */
export async function upstreamLogout(ctx: Context, services: Deps, route: LogoutRoute): Promise<void> {
  const message: InboundLogoutMessage =
    route.method === 'POST'
      ? { method: 'POST', params: await readForm(ctx, route.maxBodyBytes) }
      : {
          method: 'GET',
          params: Object.fromEntries(new URLSearchParams(ctx.querystring)),
          rawQuery: ctx.querystring,
        };
  let direction: 'request' | 'response';
  try {
    direction = route.direction(message.params);
  } catch (error) {
    if (!(error instanceof AdapterError)) throw error;
    await refused(ctx, services, 'UPSTREAM_LOGOUT_REFUSED', undefined, error);
    throw refusal(error, 'The logout message was refused.');
  }
  if (direction === 'response') return logoutResponse(ctx, services, route, message);
  return logoutRequest(ctx, services, route, message);
}
