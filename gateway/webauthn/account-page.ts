/**
 * GET /interaction/:uid/webauthn/credentials — the account view: every WebAuthn credential of the
 * account, with the level it stands in for, when it was added and last used, and from when a level-3 key
 * may be used (its cool-down), its reference (what the person gives the service desk, who removes it with
 * `node gateway/webauthn/cli.ts`), and whether it was suspended as cloned. Shown to the browser that just completed login `uid` (the grant of
 * step-up.ts, 10 minutes), after ANY completed login: a person whose password was used to add a key sees
 * it on their next sign-in. Enrolments are also in the audit log (`WEBAUTHN_ENROLLED`).
 */
import type { Context } from 'koa';
import { escapeHtml, page } from '../http/html.ts';
import type { WebAuthnDeps } from './deps.ts';
import { levelPolicyOf, refusalFor, usableAtLevel3From } from './credential-levels.ts';
import { CredentialStore, credentialRef, type StoredCredential } from './credential-store.ts';
import { grantOf } from './enrol.ts';
import { kindOf, shownDate } from './key-notice.ts';

function standsFor(c: StoredCredential, deps: WebAuthnDeps): string {
  if (c.suspendedAt)
    return `nothing: suspended ${shownDate(c.suspendedAt)}, it may have been copied (the service desk removes it; add another key)`;
  const policy = levelPolicyOf(deps.config.webauthn);
  if (c.level === 3 && !policy.level3Available)
    return `level 2 (security key, attested ${c.attestationFormat}; level 3 is not offered here)`;
  // a key whose maker (attestation root) or model is no longer trusted: level 2 only
  const untrusted = c.level === 3 ? refusalFor(c, 3, policy, new Date()) : null;
  if (untrusted?.code === 'WEBAUTHN_ATTESTATION_UNTRUSTED')
    return `level 2 (security key, attested ${c.attestationFormat}; ${untrusted.message.toLowerCase().replace(/\.$/, '')}: not level 3)`;
  if (c.level === 3)
    return `level 3 (security key, attested ${c.attestationFormat}); usable for level 3 from ${shownDate(usableAtLevel3From(c, policy))}`;
  if (c.level === 2) return 'level 2 (confirms it is you)';
  return 'nothing (added before keys were tied to a level; add it again after a sign-in at LoA high)';
}

export async function accountPage(ctx: Context, deps: WebAuthnDeps, uid: string): Promise<void> {
  const grant = await grantOf(ctx, deps, uid);
  const credentials = await new CredentialStore(deps.pool).ofAccount(grant.accountId);
  const rows = credentials
    .map(
      (c) =>
        `<tr><td>${escapeHtml(kindOf(c))}</td><td><code>${escapeHtml(credentialRef(c.credentialId))}</code></td><td>${escapeHtml(shownDate(c.createdAt))}</td><td>${escapeHtml(shownDate(c.lastUsedAt))}</td><td>${escapeHtml(standsFor(c, deps))}</td></tr>`,
    )
    .join('\n');
  const body = credentials.length
    ? `<table><thead><tr><th>kind</th><th>reference</th><th>added</th><th>last used</th><th>stands in for</th></tr></thead><tbody>\n${rows}\n</tbody></table>
<p>${escapeHtml('If you do not recognise a key, someone may know your password. If you lost one, or do not recognise it, give its reference to the service desk: they remove it.')}</p>`
    : `<p>${escapeHtml('No security key or device is registered for your account.')}</p>`;
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'html';
  ctx.body = page('Your security keys', `<h1>Your security keys</h1>\n${body}`);
}
