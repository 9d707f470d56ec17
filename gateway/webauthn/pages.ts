/**
 * The gateway's WebAuthn pages (enrol a key, confirm a sign-in with it). Their only script is
 * {@link WEBAUTHN_SCRIPT}, a constant allowed by its hash in the page's CSP ({@link webauthnCsp}); the
 * ceremony options travel in a JSON data block (`type="application/json"`, never executed). The script
 * waits for the person to press the button, runs the ceremony, and posts the result as an ordinary form.
 */
import { createHash } from 'node:crypto';
import { escapeHtml, page } from '../http/html.ts';

export const WEBAUTHN_SCRIPT =
  "document.getElementById('webauthn-start').addEventListener('click',async()=>{" +
  "const f=document.getElementById('webauthn'),s=document.getElementById('webauthn-status');" +
  "const o=JSON.parse(document.getElementById('webauthn-options').textContent);" +
  "try{const c=f.dataset.ceremony==='register'" +
  '?await navigator.credentials.create({publicKey:PublicKeyCredential.parseCreationOptionsFromJSON(o)})' +
  ':await navigator.credentials.get({publicKey:PublicKeyCredential.parseRequestOptionsFromJSON(o)});' +
  'f.elements.response.value=JSON.stringify(c.toJSON());f.submit();}' +
  "catch(e){s.textContent='Your authenticator did not answer ('+e.name+'). You can try again.';}})";

export const WEBAUTHN_SCRIPT_HASH = `'sha256-${createHash('sha256').update(WEBAUTHN_SCRIPT).digest('base64')}'`;

/**
 * The CSP of these pages: the gateway's usual policy, with this one script allowed by hash. `form-action *`
 * as elsewhere: CSP checks the redirects that follow a form post, and a finished login is redirected to the RP.
 */
export function webauthnCsp(): string {
  return `default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; script-src ${WEBAUTHN_SCRIPT_HASH}; connect-src 'self'; form-action *; frame-ancestors 'none'; base-uri 'none'`;
}

/** JSON inside a `<script type="application/json">` block: `<` escaped so it cannot close the element. */
const dataBlock = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export interface CeremonyPage {
  ceremony: 'register' | 'authenticate';
  action: string;
  title: string;
  intro: string;
  /** The keys of the account, with their dates (key-notice.ts); shown under the intro. */
  notice?: string;
  button: string;
  options: unknown;
  /** Why this is asked, in words a citizen understands (the step-up explains itself: issue #13 item 9). */
  explanation?: string;
  /** The page's language (default `en`). */
  lang?: 'fr' | 'en';
  /** A stable error code from the previous attempt, shown to the person. */
  error?: string;
  hidden?: Record<string, string>;
}

/** The page of one ceremony. */
export function ceremonyPage(p: CeremonyPage): string {
  const hidden = Object.entries(p.hidden ?? {})
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
  const error = p.error
    ? `<p role="alert">That did not work (<code>${escapeHtml(p.error)}</code>). You can try again.</p>`
    : '';
  return page(
    p.title,
    `<h1>${escapeHtml(p.title)}</h1>
${error}${p.explanation ? `<p id="webauthn-why">${escapeHtml(p.explanation)}</p>\n` : ''}<p>${escapeHtml(p.intro)}</p>
${p.notice ? `<p id="webauthn-keys">${escapeHtml(p.notice)}</p>\n` : ''}<form method="post" action="${escapeHtml(p.action)}" id="webauthn" data-ceremony="${p.ceremony}">${hidden}<input type="hidden" name="response" value="">
<button type="button" id="webauthn-start">${escapeHtml(p.button)}</button></form>
<p id="webauthn-status" role="status"></p>
<script type="application/json" id="webauthn-options">${dataBlock(p.options)}</script>
<script>${WEBAUTHN_SCRIPT}</script>`,
    p.lang ?? 'en',
  );
}

/** A plain message page (enrolment done, or refused). */
export function messagePage(title: string, text: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p role="status">${escapeHtml(text)}</p>`);
}
