/**
 * The logout pages oidc-provider renders itself: the logout confirmation and the post-logout page (errors:
 * error-page.ts). Server-rendered, no external assets.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { page } from '../http/html.ts';

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
