/**
 * The demo IdP's pages: the login form (lists the demo users and their public passwords) and the
 * auto-submitting form that POSTs the SAMLResponse to the SP's ACS (with a visible button for no-JS).
 * Everything interpolated is escaped; no external assets.
 */
import { escapeHtml, hiddenInput, page } from '../http/html.ts';
import type { DemoUser } from './demo-users.ts';
import { loaUri } from './demo-users.ts';
import type { VerifiedAuthnRequest } from './verify-authn-request.ts';

/**
 * The login form for a verified AuthnRequest.
 *
 * @example sendHtml(res, 200, loginPage(request, spEntityId, users));
 */
export function loginPage(
  request: VerifiedAuthnRequest,
  spEntityId: string,
  users: readonly DemoUser[],
  error?: string,
): string {
  const rows = users
    .map(
      (u) =>
        `<tr><td><code>${escapeHtml(u.username)}</code></td><td><code>${escapeHtml(u.password)}</code></td>` +
        `<td>${escapeHtml(`${u.given_name} ${u.family_name}`)}</td><td>${escapeHtml(u.loa)} <span class="note">(${escapeHtml(loaUri(u.loa))})</span></td></tr>`,
    )
    .join('');
  const requested =
    request.requestedAuthnContext.length === 0
      ? 'no particular level'
      : `${escapeHtml(request.comparison ?? 'exact')}: ${request.requestedAuthnContext.map((c) => `<code>${escapeHtml(c)}</code>`).join(', ')}`;
  const alert = error === undefined ? '' : `<p class="error" role="alert" id="login-error">${escapeHtml(error)}</p>`;
  const described = error === undefined ? '' : ' aria-describedby="login-error"';
  return page(
    'Demo identity provider — sign in',
    `<p><strong>${escapeHtml(spEntityId)}</strong> asks you to sign in. Requested level of assurance: ${requested}.</p>
${alert}
<form method="post" action="login">
${hiddenInput('request_id', request.id)}
${request.relayState === null ? '' : hiddenInput('RelayState', request.relayState)}
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" required autofocus${described}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${described}>
<button type="submit">Sign in</button>
</form>
<h2>Demo users</h2>
<p class="note">This is a demonstration identity provider: these accounts and passwords are public.</p>
<table><caption class="note">Demo accounts</caption>
<thead><tr><th scope="col">Username</th><th scope="col">Password</th><th scope="col">Name</th><th scope="col">Level of assurance</th></tr></thead>
<tbody>${rows}</tbody></table>`,
  );
}

/**
 * The page that POSTs the SAMLResponse (and RelayState) to the ACS.
 *
 * @example sendHtml(res, 200, autoPostPage(acsUrl, built.base64, request.relayState));
 */
export function autoPostPage(acsUrl: string, samlResponse: string, relayState: string | null): string {
  return page(
    'Demo identity provider — returning to the service',
    `<form method="post" action="${escapeHtml(acsUrl)}" id="saml-post">
${hiddenInput('SAMLResponse', samlResponse)}
${relayState === null ? '' : hiddenInput('RelayState', relayState)}
<p>You are signed in. If you are not sent back automatically, press Continue.</p>
<button type="submit">Continue</button>
</form>
<script>document.getElementById('saml-post').submit();</script>`,
  );
}

/**
 * The index page: what this server is, where its metadata lives, and the sessions it opened (each can be
 * ended here: IdP-initiated Single Logout towards the service).
 *
 * @example sendHtml(res, 200, indexPage(entityId, sessions.list()));
 */
export function indexPage(
  entityId: string,
  sessions: readonly { nameId: string; sessionIndex: string }[] = [],
): string {
  const open = sessions
    .map(
      (s) => `<li><form method="post" action="logout">${hiddenInput('session_index', s.sessionIndex)}
<code>${escapeHtml(s.nameId)}</code> <button type="submit">Sign out of the service</button></form></li>`,
    )
    .join('\n');
  return page(
    'Demo identity provider',
    `<p>A programmable SAML 2.0 identity provider (samlify) for development and conformance tests. It is not a real IdP.</p>
<p>Metadata: <a href="metadata"><code>${escapeHtml(entityId)}</code></a></p>
${sessions.length === 0 ? '<p>No one is signed in here.</p>' : `<h2>Signed in here</h2><ul>${open}</ul>`}`,
  );
}

/**
 * The page that POSTs an IdP-initiated LogoutRequest (and RelayState) to the SP's SingleLogoutService.
 *
 * @example sendHtml(res, 200, autoPostRequestPage({ url, fields }));
 */
export function autoPostRequestPage(message: { url: string; fields: Record<string, string> }): string {
  return page(
    'Demo identity provider — signing you out of the service',
    `<form method="post" action="${escapeHtml(message.url)}" id="saml-post">
${Object.entries(message.fields)
  .map(([name, value]) => hiddenInput(name, value))
  .join('\n')}
<p>Signing you out of the service. If nothing happens, press Continue.</p>
<button type="submit">Continue</button>
</form>
<script>document.getElementById('saml-post').submit();</script>`,
  );
}
