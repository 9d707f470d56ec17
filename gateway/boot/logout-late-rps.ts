/**
 * An RP-initiated logout tells every RP of the session it ended, also one that another request added after the
 * logout read the session. oidc-provider's `end_session_confirm` sends back-channel logout tokens (and
 * shared-signals/transmitter.ts its CAEP `session-revoked`) to the RPs of the session as it read it, then ends
 * the session. An SSO to another RP, in another tab, that committed between that read and the end added an RP
 * the logout never named: its tokens were refused (the session is ended), but it kept its local session.
 *
 * Once the provider has answered, the session as the logout's own end closed it (`SessionStore.endedHere`: the
 * last write committed before the end) is compared with the one it read; each RP (by client and `sid`) found
 * only in the former gets what the logout gave the others: its grant revoked, its back-channel logout token
 * (retries, audit, metrics: oidc/backchannel-logout.ts) and its CAEP event. A write that comes after the end
 * finds the session ended and adds nothing (migration 0760). A fault here is logged; the logout stands.
 */
import type { Next } from 'koa';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { BackchannelLogout } from '../oidc/backchannel-logout.ts';
import type { SessionView, SignalTransmitter } from '../oidc/shared-signals/transmitter.ts';
import type { Services } from '../services.ts';

export interface LateRpsDeps {
  sessions: Services['sessions'];
  backchannel: BackchannelLogout;
  signals: SignalTransmitter;
  logger: Services['logger'];
}

type Authorization = { sid?: unknown; grantId?: unknown; persistsLogout?: unknown };
type Authorizations = Record<string, Authorization>;

/** The authorizations of `ended` that `read` does not hold (by client, with the same `sid`). */
export function addedSince(read: unknown, ended: unknown): Authorizations {
  const before = (typeof read === 'object' && read !== null ? read : {}) as Authorizations;
  const after = (typeof ended === 'object' && ended !== null ? ended : {}) as Authorizations;
  return Object.fromEntries(Object.entries(after).filter(([clientId, entry]) => before[clientId]?.sid !== entry.sid));
}

/**
 * An oidc-provider middleware (installed on every generation).
 *
 * @example
 * provider.use(tellRpsAddedDuringLogout({ sessions, backchannel, signals, logger }));
 */
export function tellRpsAddedDuringLogout(deps: LateRpsDeps) {
  return async (ctx: KoaContextWithOIDC, next: Next): Promise<void> => {
    await next();
    if (ctx.oidc?.route !== 'end_session_confirm') return;
    const session = ctx.oidc.session as unknown as (SessionView & { destroyed?: boolean; uid?: unknown }) | undefined;
    if (!session?.destroyed || typeof session.uid !== 'string') return;
    try {
      const { store } = deps.sessions;
      const ended = await store.endedHere<SessionView>(store.keys.key('Session', session.uid));
      if (!ended) return; // another end or a revocation came first: it told the RPs it ended
      const late = addedSince(session.authorizations, ended.authorizations);
      const clients = Object.keys(late);
      if (clients.length === 0) return;
      deps.logger.info({ clients }, 'logout tells the RPs another request added while it ran');
      const provider = ctx.oidc.provider;
      const view = { accountId: ended.accountId, authorizations: late };
      await Promise.all([
        revokeGrants(provider, late),
        deps.backchannel.sessionEnded(provider, view),
        deps.signals.sessionRevoked(provider, view, 'user'),
      ]);
    } catch (err) {
      deps.logger.warn({ err }, 'logout could not tell the RPs added while it ran');
    }
  };
}

/**
 * As oidc-provider's logout revokes the grants of the RPs it read (`revoke`, unless the authorization persists
 * logout): the gateway's adapter ends every artefact of a grant, in Redis and in the session store, whichever
 * model it is asked through (oidc/redis-adapter.ts `revokeByGrantId`).
 */
async function revokeGrants(provider: Provider, late: Authorizations): Promise<void> {
  await Promise.all(
    Object.values(late).map(async ({ grantId, persistsLogout }) => {
      if (typeof grantId === 'string' && persistsLogout !== true) await provider.AccessToken.revokeByGrantId(grantId);
    }),
  );
}
