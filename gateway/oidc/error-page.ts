/**
 * oidc-provider's `renderError`: what a refused OIDC request answers.
 *
 * - An OAuth API endpoint (token, introspection, revocation, PAR, userinfo, discovery, jwks, …) answers
 *   its JSON error body whatever the `Accept` header says (RFC 6749 §5.2; oidc-provider would render HTML
 *   to `Accept: text/html`). Only the front-channel routes a person's browser visits get a page.
 * - The page shows the standard error code and a reference (the request id, also in `X-Request-Id` and in
 *   the log line of oidc/error-events.ts), never the description or any input.
 * - When the RP is known (a configured `client_id`, or the client of a verified `id_token_hint` at logout),
 *   the page links back to that service's site: the origin of the URI it sent when that URI is registered
 *   (`redirect_uri`, `post_logout_redirect_uri`), else the origin of its first registered redirect URI —
 *   always a URI the operator registered, never one taken from the request alone, and never the redirect
 *   URI itself (that would hand the RP a callback without a code).
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { escapeHtml, page } from '../http/html.ts';

/** The routes a browser navigates to: everything else is an API that answers JSON. */
const BROWSER_ROUTES: ReadonlySet<string> = new Set([
  'authorization',
  'resume',
  'end_session',
  'end_session_confirm',
  'end_session_success',
  'code_verification',
  'device_resume',
]);

interface ErrorOut {
  error?: string;
  error_description?: string;
  state?: string;
  iss?: string;
}

/** The site of the RP behind a refused request, from its registered URIs; undefined when the RP is unknown. */
export function serviceLink(ctx: KoaContextWithOIDC): { origin: string; name: string } | undefined {
  const client = ctx.oidc?.client;
  if (!client) return undefined;
  const params = (ctx.oidc.params ?? {}) as Record<string, unknown>;
  const candidates: string[] = [];
  if (typeof params.redirect_uri === 'string' && client.redirectUriAllowed(params.redirect_uri))
    candidates.push(params.redirect_uri);
  if (
    typeof params.post_logout_redirect_uri === 'string' &&
    client.postLogoutRedirectUriAllowed(params.post_logout_redirect_uri)
  )
    candidates.push(params.post_logout_redirect_uri);
  const uri = candidates[0] ?? client.redirectUris?.[0];
  if (uri === undefined) return undefined;
  const origin = new URL(uri).origin;
  return { origin, name: String(client.clientName ?? client.clientId) };
}

/**
 * @example
 * new Provider(issuer, { renderError: renderErrorPage });
 */
export async function renderErrorPage(ctx: KoaContextWithOIDC, out: ErrorOut): Promise<void> {
  const code = /^[a-z_]{1,64}$/.test(out.error ?? '') ? out.error! : 'server_error';
  ctx.set('Cache-Control', 'no-store');
  if (!BROWSER_ROUTES.has(String(ctx.oidc?.route ?? ''))) {
    ctx.type = 'json';
    ctx.body = out;
    return;
  }
  const reference = String(ctx.res.getHeader('x-request-id') ?? '');
  const link = serviceLink(ctx);
  const back = link
    ? `<p><a class="button" href="${escapeHtml(`${link.origin}/`)}">Back to ${escapeHtml(link.name)}</a></p>`
    : '<p>Go back to the service you came from and start again.</p>';
  ctx.type = 'html';
  ctx.body = page(
    'Sign-in error',
    `<h1>Sign-in could not continue</h1>
<p>The request was refused. Error code: <code>${escapeHtml(code)}</code>.</p>
<p>If you contact support, give this reference: <code id="reference">${escapeHtml(reference)}</code>.</p>
${back}`,
  );
}
