/**
 * A login bound to a browser (its binding cookie, set by its first upstream leg: the browser that chose the IdP)
 * goes on only in that browser: at its completion step, its resume, its WebAuthn step-up, and any further upstream
 * leg. Its interaction and
 * resume cookies are oidc-provider's, path-scoped and so never `__Host-`: a sibling site can plant the attacker's
 * in a person's browser, which would finish the attacker's login there (leaving the attacker's session in that
 * browser) or take it upstream from there. Refused with `INTERACTION_INVALID` (403), audited `REJECTED` with where
 * and why (`other-browser`, `no-binding-cookie`); the login is left as it was.
 */
import type { Context } from 'koa';
import type { AuditLog } from '../audit/audit-log.ts';
import type { GatewayConfig } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import { bindingKeys, browserBindings } from './browser-binding.ts';

/** Where the request was refused. */
export type SameBrowserAt = 'resume' | 'completion' | 'upstream-start' | 'webauthn';

/** What the check needs: the binding key and cookie settings, and the audit log. */
export interface SameBrowserDeps {
  audit: Pick<AuditLog, 'append'>;
  config: Pick<GatewayConfig, 'secrets' | 'cookies'>;
}

/**
 * Throws unless this request's browser carries `bound` (a login without one, begun before this version or on a
 * session, passes: see the callers).
 *
 * @example
 * await refuseAnotherBrowser(ctx, services, uid, (await services.logins.load(uid))?.browserBinding, 'completion');
 */
export async function refuseAnotherBrowser(
  ctx: Context,
  services: SameBrowserDeps,
  uid: string,
  bound: string | undefined,
  at: SameBrowserAt,
): Promise<void> {
  if (bound === undefined) return;
  const { secrets, cookies } = services.config;
  // bound under the current key, or under one used before a rotation (the same browser's cookie)
  const bindings = browserBindings(ctx, bindingKeys(secrets), cookies);
  if (bindings.includes(bound)) return;
  await refuse(ctx, services, uid, at, bindings.length === 0 ? 'no-binding-cookie' : 'other-browser');
}

/** Audits the refusal, then throws it. */
export async function refuse(
  ctx: Context,
  services: Pick<SameBrowserDeps, 'audit'>,
  uid: string,
  at: SameBrowserAt,
  cause: string,
): Promise<never> {
  const requestId = ctx.state.requestId as string | undefined;
  await services.audit.append({
    sessionId: uid,
    from: null,
    to: 'REJECTED',
    component: 'interaction',
    errorCode: 'INTERACTION_INVALID',
    ...(requestId === undefined ? {} : { requestId }),
    details: { at, cause },
  });
  throw new GatewayError('INTERACTION_INVALID', 403, 'This sign-in began in another browser.', {
    detail: `${at}: ${cause}`,
  });
}
