/**
 * The demo RP's page: a "Log in with the gateway" button; after a login, the verified ID-token claims,
 * the token's JOSE header (alg, kid) and UserInfo; after an OP error, the error. All values escaped.
 */
import { escapeHtml, page } from '../http/html.ts';
import type { RpSession } from './login-sessions.ts';

function table(caption: string, values: Record<string, unknown>): string {
  const rows = Object.entries(values)
    .map(([name, value]) => `<tr><th scope="row"><code>${escapeHtml(name)}</code></th><td>${escapeHtml(typeof value === 'string' ? value : JSON.stringify(value))}</td></tr>`)
    .join('');
  return `<table><caption>${escapeHtml(caption)}</caption><thead><tr><th scope="col">Claim</th><th scope="col">Value</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/**
 * The home page for a session (or none).
 *
 * @example sendHtml(res, 200, homePage(issuer, sessions.find(req)));
 */
export function homePage(issuer: string, session: RpSession | undefined): string {
  const button = `<form method="get" action="login"><button type="submit">${session?.result ? 'Log in again' : 'Log in with the gateway'}</button></form>`;
  const parts = [`<p>A demonstration relying party (openid-client) of the gateway <code>${escapeHtml(issuer)}</code>.</p>`];
  if (session?.error) {
    parts.push(
      `<div class="error" role="alert"><p>The gateway did not log you in: <code>${escapeHtml(session.error.error)}</code></p>` +
        (session.error.description ? `<p>${escapeHtml(session.error.description)}</p>` : '') +
        '</div>',
    );
  }
  if (session?.result) {
    const { header, claims, userinfo } = session.result;
    parts.push(`<p>Logged in. The ID token's signature was verified against the gateway's JWKS.</p>`);
    parts.push(table('ID token header', { alg: header.alg, kid: header.kid ?? '(none)', typ: header.typ ?? '(none)' }));
    parts.push(table('Verified ID token claims', claims));
    if (userinfo !== null) parts.push(table('UserInfo', userinfo));
  }
  parts.push(button);
  return page('Demo relying party', parts.join('\n'));
}
