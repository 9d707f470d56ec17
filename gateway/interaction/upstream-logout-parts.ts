/**
 * What every part of Single Logout with the upstream IdPs shares (`upstream-logout.ts` has the whole): the
 * services it uses, the upstream sessions, the adapter a logout message names, the page's error for a refused
 * message, and the browser's way on (to the IdP by its binding, or to the signed-out page).
 */
import type { Context } from 'koa';
import {
  AdapterError,
  type FrontChannel,
  type InboundLogoutMessage,
  type UpstreamAdapter,
  type UpstreamLogout,
} from '../../adapters/contract.ts';
import type { LogoutRoute } from '../../adapters/contract/routes.ts';
import { errorSpec } from '../error-registry.ts';
import { GatewayError } from '../errors.ts';
import { autoPostForm } from '../http/html.ts';
import type { Services } from '../services.ts';
import { upstreamRecordSeconds } from '../session/session-life.ts';
import { UpstreamSessions } from '../session/upstream-sessions.ts';

export type Deps = Pick<Services, 'adapters' | 'sessions' | 'redis' | 'audit' | 'logger' | 'metrics' | 'config'>;

export const upstreamSessions = (services: Deps) =>
  new UpstreamSessions({
    store: services.sessions.store,
    revoker: services.sessions.revoker,
    ttlSeconds: upstreamRecordSeconds(services.config.ttl),
  });

export type OfferingAdapter = UpstreamAdapter & { logout: UpstreamLogout };

/**
 * The adapters that name a logout message's sender (unverified: the one asked then verifies everything); each is
 * asked once per message.
 */
export function naming(services: Deps, message: InboundLogoutMessage): OfferingAdapter[] {
  return services.adapters
    .list()
    .filter((adapter): adapter is OfferingAdapter => adapter.logout.offered && adapter.logout.names(message));
}

/**
 * The adapter whose IdP a logout message names (unverified: the adapter then verifies everything). Several registry
 * entries may share one IdP (one entity: an eIDAS node's natural- and legal-person logins): `prefer`, the entry an
 * answer's leg was sent through (its way back), is asked when it names the sender; else the first that does.
 */
export function adapterFor(
  services: Deps,
  route: LogoutRoute,
  message: InboundLogoutMessage,
  prefer?: string,
): OfferingAdapter {
  return adapterAmong(naming(services, message), route, prefer);
}

/** {@link adapterFor} among the adapters {@link naming} found. */
export function adapterAmong(all: readonly OfferingAdapter[], route: LogoutRoute, prefer?: string): OfferingAdapter {
  const chosen = all.find((adapter) => adapter.id === prefer) ?? all[0];
  if (chosen) return chosen;
  throw new AdapterError(route.codes.issuerUnknown, 'No identity provider of ours sent this logout.', {
    detail: 'no adapter names the sender',
  });
}

/**
 * The other registry entries among those that name the sender of the logout message `adapter` verified (entries of
 * the same IdP: `names` matches the message's issuer with the entry's entity): the IdP's logout names its subject
 * whichever of our entries the login came through, so their sessions of that subject end too.
 */
export function siblingsOf(named: readonly OfferingAdapter[], adapter: OfferingAdapter): string[] {
  return named.filter((other) => other.id !== adapter.id).map((other) => other.id);
}

/**
 * The page's error for a refused logout message: its code with the status the error registry gives it (a 400 for
 * a refused message; 503 for an unavailable IdP; 500 for an internal or configuration fault, whose code the error
 * handler then does not expose), never a blanket 400.
 */
export function refusal(error: AdapterError, message: string): GatewayError {
  return new GatewayError(error.code, errorSpec(error.code).status, message, {
    ...(error.detail === undefined ? {} : { detail: error.detail }),
    cause: error,
  });
}

/**
 * Sends the browser on to an IdP's logout: a 303 (Redirect binding) or a page that posts itself (POST binding). Never
 * cached: either carries our LogoutRequest (the person's NameID, often a national identifier, and SessionIndex) or
 * our answer, which a shared computer's next user would otherwise read back from the cache.
 */
export function send(ctx: Context, start: FrontChannel): void {
  ctx.set('Cache-Control', 'no-store');
  if (start.binding === 'redirect') {
    ctx.status = 303;
    ctx.redirect(start.url);
    return;
  }
  ctx.status = 200;
  ctx.type = 'html';
  ctx.body = autoPostForm(start.url, start.fields);
}

export function signedOut(ctx: Context): void {
  ctx.status = 303;
  ctx.redirect('/session/end/success');
}
