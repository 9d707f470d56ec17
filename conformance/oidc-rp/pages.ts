/**
 * The demo RP's page: "Log in with the gateway", "Log in at eidas3" and (logged in) "Log out"; after a
 * login, `acr`, `amr`, `fraud_score` and the signed risk assessment, the verified ID-token claims, the
 * token's JOSE header (alg, kid) and UserInfo; after an OP error, the error. All values escaped.
 */
import { escapeHtml, page } from '../http/html.ts';
import type { RpSession } from './login-sessions.ts';

function table(caption: string, values: Record<string, unknown>): string {
  const rows = Object.entries(values)
    .map(
      ([name, value]) =>
        `<tr><th scope="row"><code>${escapeHtml(name)}</code></th><td>${escapeHtml(typeof value === 'string' ? value : JSON.stringify(value))}</td></tr>`,
    )
    .join('');
  return `<table><caption>${escapeHtml(caption)}</caption><thead><tr><th scope="col">Claim</th><th scope="col">Value</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/**
 * The home page for a session (or none).
 *
 * @example sendHtml(res, 200, homePage(issuer, sessions.find(req)));
 */
export function homePage(issuer: string, session: RpSession | undefined): string {
  const loggedIn = session?.result !== undefined;
  const buttons = [
    `<form method="get" action="login"><button type="submit">${loggedIn ? 'Log in again' : 'Log in with the gateway'}</button></form>`,
    '<form method="get" action="login"><input type="hidden" name="acr" value="eidas3"><button type="submit" class="secondary">Log in at eidas3 (LoA high)</button></form>',
    ...(loggedIn
      ? ['<form method="get" action="logout"><button type="submit" class="secondary">Log out</button></form>']
      : []),
  ].join('\n');
  const parts = [
    `<p>A demonstration relying party (openid-client) of the gateway <code>${escapeHtml(issuer)}</code>.</p>`,
  ];
  if (session?.error) {
    parts.push(
      `<div class="error" role="alert"><p>The gateway did not log you in: <code>${escapeHtml(session.error.error)}</code></p>` +
        (session.error.description ? `<p>${escapeHtml(session.error.description)}</p>` : '') +
        '</div>',
    );
  }
  if (session?.result) {
    const { header, claims, userinfo, fraudScore, assessment } = session.result;
    parts.push(`<p>Logged in. The ID token's signature was verified against the gateway's JWKS.</p>`);
    parts.push(
      table('How you authenticated and what the gateway thought of it', {
        acr: claims.acr ?? '(none)',
        amr: claims.amr ?? '(none)',
        fraud_score: fraudScore ?? '(not given)',
        'risk assessment': assessment ? `${String(assessment.decision)} (signature verified)` : '(not available)',
      }),
    );
    if (assessment) parts.push(table('Signed risk assessment (verified against the gateway\u2019s JWKS)', assessment));
    parts.push(table('ID token header', { alg: header.alg, kid: header.kid ?? '(none)', typ: header.typ ?? '(none)' }));
    parts.push(table('Verified ID token claims', claims));
    if (userinfo !== null) parts.push(table('UserInfo', userinfo));
  }
  if (session && !session.result && !session.error && session.loggedOut)
    parts.push('<p role="status">You are logged out.</p>');
  parts.push(buttons);
  return page('Demo relying party', parts.join('\n'));
}
