/**
 * An RP-initiated logout (and an IdP-initiated one asked on: `idp-logout-onward.ts`, the IdP that began it left
 * out and answered last) asks every IdP behind the session, one after the other (`upstream-logout.ts` has the
 * whole): a session that stood on logins at several IdPs (a step-up at another IdP keeps the earlier logins
 * linked: `UpstreamSessions.linkSession`) is ended at each of them, its latest login's IdP first, one request per
 * upstream subject. The browser goes to one IdP at a time with our signed logout request.
 *
 * The IdPs still to ask are kept beside the way back, under `slo:chain:<relay>` (the way back keeps the shape the
 * versions before the chain read): by login id only (no identity in Redis in clear), with the leg they follow
 * (IdP, logout id) and the browser binding of the person who logged out (`session/browser-binding.ts`). The IdP's
 * answer sends the browser on (`idp-logout-response.ts`, {@link continueLogout}) only when it was verified — it
 * ended its session or said it did not (`UnendedLogout`) — and answers exactly that leg, in the browser that
 * logged out: a forged answer, or one carried to another browser, neither asks the next IdP nor uses up the chain.
 *
 * Every IdP of the chain is accounted for in the audit log, each record naming the chain (a random id):
 * `UPSTREAM_LOGOUT_SENT`; or `UPSTREAM_LOGOUT_SKIPPED` with the cause — an IdP that takes no part (its adapter's
 * `notOfferedCode`), a request that cannot be signed now (`HSM_BUSY`, not the adapter's signing-failure code
 * above it), a store that did not answer (its code), a login whose record is gone (`UPSTREAM_LOGOUT_LOGIN_GONE`);
 * and the next one is asked. An answer from another browser: `UPSTREAM_LOGOUT_OTHER_BROWSER`, the rest not asked
 * from it. The person's own logout is done before any IdP is asked and stays done.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import { z } from 'zod';
import {
  AdapterError,
  type FrontChannel,
  type UpstreamAdapter,
  type UpstreamSessionRef,
} from '../../adapters/contract.ts';
import type { AuditErrorCode } from '../audit-codes.ts';
import { bindingKeys, browserBinding, browserBindings } from '../session/browser-binding.ts';
import { EARLIER_LOGINS } from '../session/upstream-sessions.ts';
import { keepOnward, keepWayBack, type Onward } from './logout-way-back.ts';
import { unavailableCodeWithin } from './unavailable-mid-login.ts';
import { audit } from './upstream-logout-audit.ts';
import { upstreamSessions, type Deps } from './upstream-logout-parts.ts';

/** The IdPs of one logout still to ask: `first` now (when known), then the logins `then` names, in that order. */
export interface LogoutTurns {
  sessionUid: string;
  returnTo: string;
  first: UpstreamSessionRef | null;
  then: string[];
  /** The chain's first logout id, named in each of its audit records (absent: none sent yet). */
  chain?: string;
  /**
   * An IdP-initiated logout's (`idp-logout-onward.ts`): the IdP that began it, asked no more, and the signed answer
   * to its LogoutRequest, where the browser goes at the end instead of `returnTo` (kept beside each leg's way back).
   */
  onward?: Onward;
}

/** How long the rest of a chain is kept (as the way back: as long as our logout request may be answered). */
const CHAIN_TTL_SECONDS = 600;

/** What is kept under `slo:chain:<relay>`: exactly that, nothing else is read as a chain. */
const CHAIN = z
  .object({
    idp: z.string().min(1),
    logoutId: z.string().min(1),
    chain: z.string().min(1),
    returnTo: z.string().min(1),
    sessionUid: z.string().min(1),
    then: z.array(z.string().min(1)).min(1).max(EARLIER_LOGINS),
    binding: z.string().min(1),
  })
  .strict();
type Chain = z.infer<typeof CHAIN>;

/**
 * The IdPs of a session's logout, its latest login's first: null when the session stood on no upstream login, or
 * when its upstream record names another person than the session (audited `UPSTREAM_LOGOUT_OTHER_PERSON`).
 */
export async function logoutTurnsOf(
  ctx: Context,
  services: Deps,
  session: { uid: string; accountId?: string | undefined },
  returnTo: string,
): Promise<LogoutTurns | null> {
  const found = await upstreamSessions(services).logoutsOf(session.uid, session.accountId);
  if (found === 'another-person') {
    await audit(ctx, services, 'UPSTREAM_LOGOUT_SKIPPED', undefined, 'UPSTREAM_LOGOUT_OTHER_PERSON', {});
    return null;
  }
  return found ? { sessionUid: session.uid, returnTo, first: found.latest, then: found.earlier } : null;
}

/**
 * Asks the next IdP that takes part and can be asked now: the browser's way there (null: none is left), the
 * IdPs after it kept under its relay value. Every IdP passed over is audited with its cause.
 */
export async function askNextIdp(ctx: Context, services: Deps, turns: LogoutTurns): Promise<FrontChannel | null> {
  const then = [...turns.then];
  // a logout with several IdPs is one chain, named in each of its audit records
  const chain = turns.chain ?? (then.length > 0 ? randomUUID() : undefined);
  // the IdP that began an IdP-initiated logout is answered at the end, not asked
  const asked = (ref: UpstreamSessionRef | null) => (ref && ref.idp !== turns.onward?.initiator ? ref : null);
  let ref = asked(turns.first);
  for (;;) {
    if (ref) {
      const asking = ref;
      const sent = await askIdp(ctx, services, asking, { ...turns, then, chain }).catch(async (error: unknown) => {
        await skipped(ctx, services, asking.idp, unavailableCodeWithin(error) ?? 'INTERNAL', chain, error);
        return null;
      });
      if (sent) return sent;
    }
    const loginId = then.shift();
    if (loginId === undefined) return null;
    // each passed-over login audited once: a failed read with its cause, a record gone as such
    ref = null;
    try {
      ref = await upstreamSessions(services).loginOf(loginId, turns.sessionUid);
    } catch (error) {
      await skipped(ctx, services, undefined, unavailableCodeWithin(error) ?? 'INTERNAL', chain, error, loginId);
      continue;
    }
    if (!ref) await skipped(ctx, services, undefined, 'UPSTREAM_LOGOUT_LOGIN_GONE', chain, undefined, loginId);
    ref = asked(ref);
  }
}

/**
 * After the IdP's verified answer to one leg (`answered`; `onward`: what an IdP-initiated logout kept with that leg):
 * the browser's way to the next IdP of the chain, if the leg had one, and where the browser goes at the end
 * (`otherBrowser`: the answer came through another browser than the one that logged out; no IdP asked from it) (null:
 * no chain for this relay value, or not for this answer or this browser — the way back alone then says where the
 * browser goes).
 */
export async function continueLogout(
  ctx: Context,
  services: Deps,
  relay: string | undefined,
  answered: { idp: string; logoutId: string },
  onward?: Onward,
): Promise<{ start: FrontChannel | null; returnTo: string; otherBrowser?: true } | null> {
  if (relay === undefined) return null;
  const key = `slo:chain:${relay}`;
  let chain: Chain;
  try {
    const raw = await services.redis.get(key);
    if (raw === null) return null;
    chain = CHAIN.parse(JSON.parse(raw));
  } catch (err) {
    services.logger.warn({ err }, 'the rest of a logout could not be read');
    return null;
  }
  if (chain.idp !== answered.idp || chain.logoutId !== answered.logoutId) return null;
  if (!browserBindings(ctx, bindingKeys(services.config.secrets), services.config.cookies).includes(chain.binding)) {
    await audit(ctx, services, 'UPSTREAM_LOGOUT_SKIPPED', undefined, 'UPSTREAM_LOGOUT_OTHER_BROWSER', {
      chain: chain.chain,
      notAsked: chain.then.length,
    });
    // the way back stands; an IdP-initiated logout's answer is not given to this browser
    return { start: null, returnTo: chain.returnTo, otherBrowser: true };
  }
  // taken once: the same answer again (its request is taken once too) goes nowhere further
  if ((await services.redis.del(key)) !== 1) return null;
  const turns = { sessionUid: chain.sessionUid, returnTo: chain.returnTo, first: null, then: chain.then, onward };
  return { start: await askNextIdp(ctx, services, { ...turns, chain: chain.chain }), returnTo: chain.returnTo };
}

async function askIdp(
  ctx: Context,
  services: Deps,
  ref: UpstreamSessionRef,
  turns: LogoutTurns,
): Promise<FrontChannel | null> {
  let adapter: UpstreamAdapter;
  try {
    adapter = services.adapters.get(ref.idp);
  } catch {
    return skipped(ctx, services, ref.idp, 'ADAPTER_UNKNOWN', turns.chain);
  }
  const logout = adapter.logout;
  if (!logout.offered) return skipped(ctx, services, ref.idp, logout.notOfferedCode, turns.chain, logout.reason);
  const logoutId = randomUUID();
  const relayState = randomBytes(24).toString('base64url');
  let start: FrontChannel | null;
  try {
    start = await logout.startLogout({ logoutId, relayState, session: ref });
  } catch (error) {
    if (!(error instanceof AdapterError)) throw error;
    // the cause, not the adapter's wrapper: an HSM busy under its signing-failure code is recorded `HSM_BUSY`
    return skipped(ctx, services, ref.idp, unavailableCodeWithin(error) ?? error.code, turns.chain, error.detail);
  }
  if (!start) return skipped(ctx, services, ref.idp, logout.notOfferedCode, turns.chain, 'no logout endpoint');
  const chain = turns.chain;
  await keepWayBack(services, relayState, { logoutId, idp: ref.idp, returnTo: turns.returnTo });
  if (turns.onward) {
    const binding = browserBinding(ctx, services.config.secrets.browserBindingKey, services.config.cookies, 'compare');
    await keepOnward(services, relayState, { ...turns.onward, ...(binding ? { binding } : {}) });
  }
  let after = chain === undefined ? 0 : turns.then.length;
  if (chain !== undefined && after > 0) {
    // this IdP is asked all the same: only the ones after it are lost with the chain
    await keepChain(ctx, services, relayState, { ...turns, chain }, ref.idp, logoutId).catch(async (error: unknown) => {
      // a write whose answer was lost may have been made: taken back, so that nothing audited as not asked is asked
      await services.redis.del(`slo:chain:${relayState}`).catch(() => undefined);
      await audit(ctx, services, 'UPSTREAM_LOGOUT_SKIPPED', undefined, unavailableCodeWithin(error) ?? 'INTERNAL', {
        chain,
        notAsked: after,
      });
      after = 0;
    });
  }
  await audit(ctx, services, 'UPSTREAM_LOGOUT_SENT', ref.idp, undefined, {
    logoutId,
    binding: start.binding,
    ...(chain === undefined ? {} : { chain, idpsAfter: after }),
  });
  return start;
}

async function keepChain(
  ctx: Context,
  services: Deps,
  relay: string,
  turns: LogoutTurns & { chain: string },
  idp: string,
  logoutId: string,
): Promise<void> {
  const chain: Chain = {
    idp,
    logoutId,
    chain: turns.chain,
    returnTo: turns.returnTo,
    sessionUid: turns.sessionUid,
    then: turns.then,
    // the browser that logged out (a binding cookie set now if it has none): only it goes on to the next IdP
    binding: browserBinding(ctx, services.config.secrets.browserBindingKey, services.config.cookies, 'start', {
      seconds: CHAIN_TTL_SECONDS,
      extend: false,
    }),
  };
  await services.redis.set(`slo:chain:${relay}`, JSON.stringify(chain), 'EX', CHAIN_TTL_SECONDS);
}

async function skipped(
  ctx: Context,
  services: Deps,
  idp: string | undefined,
  code: AuditErrorCode,
  chain: string | undefined,
  cause?: unknown,
  loginId?: string,
): Promise<null> {
  const detail = typeof cause === 'string' ? cause : cause instanceof Error ? cause.message : undefined;
  await audit(ctx, services, 'UPSTREAM_LOGOUT_SKIPPED', idp, code, {
    ...(detail === undefined ? {} : { detail }),
    ...(chain === undefined ? {} : { chain }),
    ...(loginId === undefined ? {} : { loginId }),
  });
  return null;
}
