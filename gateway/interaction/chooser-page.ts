/**
 * The IdP chooser: a server-rendered, accessible page (a real list of buttons in one form, labelled,
 * keyboard-usable, no JavaScript, no external assets). IdPs that cannot reach the level the RP requires
 * are listed as unavailable with the reason, not hidden silently.
 */
import { escapeHtml, page } from '../http/html.ts';

export interface ChooserEntry {
  id: string;
  displayName: string;
  available: boolean;
  reason?: string;
}

export function chooserPage(options: { uid: string; clientName: string; entries: ChooserEntry[]; requiredAcr: string }): string {
  const items = options.entries
    .map((e) =>
      e.available
        ? `<li><button type="submit" name="idp" value="${escapeHtml(e.id)}">Sign in with ${escapeHtml(e.displayName)}</button></li>`
        : `<li><button type="button" disabled aria-describedby="why-${escapeHtml(e.id)}">${escapeHtml(e.displayName)}</button> <span id="why-${escapeHtml(e.id)}">${escapeHtml(e.reason ?? 'unavailable')}</span></li>`,
    )
    .join('\n');
  return page('Choose how to sign in', `<h1>Choose how to sign in</h1>
<p><strong>${escapeHtml(options.clientName)}</strong> asks you to prove who you are (level required: <code>${escapeHtml(options.requiredAcr)}</code>).</p>
<form method="post" action="/interaction/${escapeHtml(options.uid)}/idp" aria-label="Identity providers">
<ul class="idps">
${items}
</ul>
</form>`);
}
