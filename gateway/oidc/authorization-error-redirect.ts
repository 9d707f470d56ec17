/**
 * An authorization error answered to the RP's redirect URI after oidc-provider's route has answered, as its
 * own authorization error handler does (`lib/shared/authorization_error_handler.js`): `error`,
 * `error_description`, `state` and `iss` in the request's response mode (query, fragment, form_post, or a JARM
 * mode, which signs them). Used when a request's records could not be kept after the route answered with a code
 * (`request-writes-together.ts`): a `prompt=none` request (a silent renew in an iframe) must get its error back,
 * not a page it cannot show.
 *
 * Only to a redirect URI the client registered (the route checked it before it answered; checked again here).
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import instance from 'oidc-provider/lib/helpers/weak_cache.js';

/** What the RP is told. */
export interface AuthorizationError {
  error: string;
  error_description: string;
}

/**
 * Replaces the answer with `error` sent to the RP's redirect URI; false (nothing changed) when the request has no
 * client, no registered redirect URI, or a response mode the provider does not know.
 */
export async function redirectErrorToRp(ctx: KoaContextWithOIDC, error: AuthorizationError): Promise<boolean> {
  const { client, params, responseMode, provider } = ctx.oidc ?? {};
  const redirectUri = params?.redirect_uri;
  if (!client || typeof redirectUri !== 'string' || !client.redirectUriAllowed(redirectUri)) return false;
  const handler = responseMode === undefined ? undefined : instance(provider).responseModes.get(responseMode);
  if (!handler) return false;
  const payload: Record<string, string> = { ...error, iss: provider.issuer };
  if (typeof params?.state === 'string') payload.state = params.state;
  ctx.remove('Location');
  ctx.body = null;
  await handler(ctx, redirectUri, payload);
  return true;
}
