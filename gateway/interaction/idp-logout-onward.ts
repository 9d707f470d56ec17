/**
 * An IdP-initiated logout asked on to the session's other IdPs (`upstream-logout.ts` has the whole): when the
 * session an IdP's LogoutRequest ended stood on logins at other IdPs too (a step-up at another IdP keeps the earlier
 * logins linked), the browser goes to each of them with our signed LogoutRequest, as in an RP-initiated logout
 * (`upstream-logout-chain.ts`: one leg at a time, each audited; with several, only in the browser that carried the
 * request), and last back to the IdP that began it, with our signed answer to its request (audited
 * `UPSTREAM_LOGOUT_ANSWERED` when signed, `UPSTREAM_LOGOUT_ANSWER_SENT` when the browser takes it, whatever the other
 * IdPs answered: the local logout is done; kept beside each leg's way back, `logout-way-back.ts` `keepOnward`, and for
 * the IdP's own retry of its request, which else would be a replay). The IdP that began it is not asked again.
 * Before, only the gateway's session ended: the person's sessions at the other IdPs stayed open, and a new login at
 * the gateway through one of them needed no credentials.
 *
 * A request naming only a NameID may end the person's sessions in several browsers: this browser is sent on for the
 * one it made ({@link sessionToAskOn}: the login that named it recorded this browser's binding), and cannot be for
 * the others (audited `UPSTREAM_LOGOUT_SKIPPED`, `UPSTREAM_LOGOUT_OTHER_BROWSER`, with how many). Before, such a
 * request asked no other IdP at all. A first attempt whose answer could not be signed (the HSM busy)
 * ended the session but asks no other IdP: its retry does, once answered (`idp-logout-onward-due.ts`). Asking on
 * fails (the store): the IdP that began it is answered at once, the sessions stay ended.
 */
import type { Context } from 'koa';
import type { FrontChannel } from '../../adapters/contract.ts';
import { bindingKeys, browserBindings } from '../session/browser-binding.ts';
import type { EndedSession } from '../session/upstream-sessions.ts';
import { audit } from './upstream-logout-audit.ts';
import { askNextIdp, logoutTurnsOf } from './upstream-logout-chain.ts';
import { upstreamSessions, type Deps } from './upstream-logout-parts.ts';

/** Where the browser goes at the end when the IdP that began it lists no endpoint for our answer. */
const SIGNED_OUT = '/session/end/success';

/**
 * Of the sessions a request ended, the one to ask on from: the only one; of several, the one one of whose named
 * logins recorded this browser's binding. The others' other IdPs cannot be asked in this browser's chain (one chain
 * per request): audited `UPSTREAM_LOGOUT_SKIPPED`, `UPSTREAM_LOGOUT_OTHER_BROWSER`, with `notAskedOn` (how many
 * sessions, whether or not they stood on other IdPs: finding out would read each) and, when none is asked on,
 * `cause`: `no-binding-cookie` (the browser sent none), `made-elsewhere` (no session of this browser among them,
 * or logins recorded before bindings were), `several-made-here` (not a case to guess in).
 *
 * @example
 * const askedOn = await sessionToAskOn(ctx, services, adapter.id, endedSessions);
 */
export async function sessionToAskOn(
  ctx: Context,
  services: Deps,
  initiator: string,
  sessions: readonly EndedSession[],
): Promise<EndedSession[]> {
  if (sessions.length <= 1) return [...sessions];
  // this browser's binding under the current key or one used before a rotation
  const bindings = browserBindings(ctx, bindingKeys(services.config.secrets), services.config.cookies);
  const own = sessions.filter((s) => s.bindings?.some((b) => bindings.includes(b)));
  const askedOn = own.length === 1 ? own : [];
  const cause = bindings.length === 0 ? 'no-binding-cookie' : own.length === 0 ? 'made-elsewhere' : 'several-made-here';
  try {
    await audit(ctx, services, 'UPSTREAM_LOGOUT_SKIPPED', initiator, 'UPSTREAM_LOGOUT_OTHER_BROWSER', {
      notAskedOn: sessions.length - askedOn.length,
      ...(askedOn.length === 0 ? { cause } : {}),
    });
  } catch (err) {
    // a record about the other sessions: this browser's own is still asked on (the chain audits each of its legs)
    services.logger.warn({ err, idp: initiator }, "the sessions of an IdP's logout not asked on could not be audited");
  }
  return askedOn;
}

/**
 * The browser's way to the first other IdP of the session `initiator`'s LogoutRequest ended (null: none to ask, and
 * `answer` goes to `initiator` now). `sameIdp`: the initiator's other registry entries (one IdP, several entries: an
 * eIDAS node's natural- and legal-person logins), left out like the initiator itself.
 *
 * @example
 * send(ctx, (await askOtherIdps(ctx, services, adapter.id, sessions, answer.reply)) ?? answer.reply);
 */
export async function askOtherIdps(
  ctx: Context,
  services: Deps,
  initiator: string,
  sessions: readonly EndedSession[],
  answer: FrontChannel | null,
  sameIdp: readonly string[] = [],
): Promise<FrontChannel | null> {
  if (sessions.length !== 1) return null;
  const isInitiator = (idp: string | undefined) => idp === initiator || (idp !== undefined && sameIdp.includes(idp));
  const [session] = sessions as [EndedSession];
  try {
    const turns = await logoutTurnsOf(ctx, services, { uid: session.uid, accountId: session.account }, SIGNED_OUT);
    if (!turns) return null;
    // the initiator's own earlier logins left out now, so that the chain counts only the IdPs it asks (a login that
    // cannot be read now is kept: accounted for at its turn)
    const logins = upstreamSessions(services);
    const atInitiator = await Promise.all(
      turns.then.map(async (id) => isInitiator((await logins.loginOf(id, session.uid).catch(() => null))?.idp)),
    );
    const then = turns.then.filter((_, i) => !atInitiator[i]);
    const first = isInitiator(turns.first?.idp) ? null : turns.first;
    return await askNextIdp(ctx, services, { ...turns, first, then, onward: { initiator, answer } });
  } catch (err) {
    services.logger.warn({ err, idp: initiator }, "an IdP's logout could not be asked on to the session's other IdPs");
    return null;
  }
}
