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
 * (retries, audit, metrics: oidc/backchannel-logout.ts) and its CAEP event; a grant that replaced the grant of an
 * RP the logout read is revoked too. A session write that comes after the end finds the session ended and does
 * not open it again (migration 0760); its request may still hand out a code, which the token endpoint refuses
 * (the code names the ended session), unless the RP's grant persists logout (`offline_access`). A fault here is
 * logged; the logout stands.
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
  const before = asAuthorizations(read);
  return Object.fromEntries(
    Object.entries(asAuthorizations(ended)).filter(([clientId, entry]) => before[clientId]?.sid !== entry.sid),
  );
}

const asAuthorizations = (value: unknown): Authorizations =>
  (typeof value === 'object' && value !== null ? value : {}) as Authorizations;

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
      const regranted = grantsNotRevoked(session.authorizations, ended.authorizations);
      const clients = Object.keys(late);
      if (clients.length === 0 && regranted.length === 0) return;
      deps.logger.info(
        { clients, grants: regranted.length },
        'logout tells the RPs another request added while it ran',
      );
      const provider = ctx.oidc.provider;
      const view = { accountId: ended.accountId, authorizations: late };
      await Promise.all([
        revokeGrants(provider, regranted),
        clients.length > 0 && deps.backchannel.sessionEnded(provider, view),
        clients.length > 0 && deps.signals.sessionRevoked(provider, view, 'user'),
      ]);
    } catch (err) {
      deps.logger.warn({ err }, 'logout could not tell the RPs added while it ran');
    }
  };
}

/**
 * The grants of `ended` that the logout did not revoke (oidc-provider's logout revokes the grants of the RPs it
 * read, unless the authorization persists logout): an added RP's, and one that replaced the grant of an RP it read
 * under the same `sid` (an SSO after that RP's grant expired makes a new one).
 */
export function grantsNotRevoked(read: unknown, ended: unknown): string[] {
  const before = asAuthorizations(read);
  return Object.entries(asAuthorizations(ended)).flatMap(([clientId, { grantId, persistsLogout }]) =>
    typeof grantId === 'string' && persistsLogout !== true && before[clientId]?.grantId !== grantId ? [grantId] : [],
  );
}

/**
 * Revokes grants as oidc-provider's logout does (`revoke`): through a model the gateway keeps in Redis (the
 * authorization code), whose adapter deletes the grant's Redis artefacts and then ends its durable ones, the
 * grant with them (oidc/redis-adapter.ts `revokeByGrantId`).
 */
async function revokeGrants(provider: Provider, grantIds: readonly string[]): Promise<void> {
  await Promise.all(grantIds.map((grantId) => provider.AuthorizationCode.revokeByGrantId(grantId)));
}
