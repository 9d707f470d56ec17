/**
 * The few pages oidc-provider renders itself: errors (no stack trace, no echo of input beyond the
 * standard error code), the logout confirmation and the post-logout page. Server-rendered, no external
 * assets.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { page, escapeHtml } from '../http/html.ts';

export async function renderErrorPage(ctx: KoaContextWithOIDC, out: { error?: string; error_description?: string }): Promise<void> {
  ctx.type = 'html';
  const code = /^[a-z_]{1,64}$/.test(out.error ?? '') ? out.error! : 'server_error';
  ctx.body = page('Sign-in error', `<h1>Sign-in could not continue</h1>
<p>The request was refused. Error code: <code>${escapeHtml(code)}</code>.</p>
<p>Go back to the service you came from and start again.</p>`);
}

export async function renderLogoutPage(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  ctx.type = 'html';
  ctx.body = page('Sign out', `<h1>Sign out of the gateway?</h1>
${form}
<p><button form="op.logoutForm" type="submit" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button form="op.logoutForm" type="submit">No, stay signed in</button></p>`);
}

export async function renderLogoutSuccessPage(ctx: KoaContextWithOIDC): Promise<void> {
  ctx.type = 'html';
  ctx.body = page('Signed out', '<h1>You are signed out</h1><p>You can close this window.</p>');
}
