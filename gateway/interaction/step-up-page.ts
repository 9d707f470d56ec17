/**
 * The page a person sees before a step-up sends them upstream again (issue #13 item 9): what is asked and
 * why in words a citizen understands, in French or English, without saying what was detected (no score,
 * no factor: telling a fraudster which signal fired helps them). The one primary action continues to the
 * IdP: the AuthnRequest form itself (POST binding) or a link (Redirect binding); nothing leaves the page
 * until the person chooses to go on.
 */
import type { LoginStart } from '../../adapters/contract.ts';
import { escapeHtml, page } from '../http/html.ts';
import type { Language } from '../http/language.ts';
import { stepUpReason } from '../http/step-up-reason.ts';

/** The words of this page; why a step-up is asked is the shared table's (http/step-up-reason.ts). */
interface StepUpWords {
  title: string;
  again: string;
  stronger: string;
  go: (idp: string) => string;
  other: string;
}

const WORDS: Readonly<Record<Language, StepUpWords>> = {
  fr: {
    title: 'Une vérification supplémentaire est nécessaire',
    again: 'Vous vous identifiez à nouveau et vous revenez au service.',
    stronger: 'Votre fournisseur d’identité vous demandera une vérification plus forte que d’habitude.',
    go: (idp) => `Continuer vers ${idp}`,
    other: 'Si vous ne souhaitez pas continuer, fermez cette page : rien ne sera transmis au service.',
  },
  en: {
    title: 'An extra check is needed',
    again: 'You sign in again and come back to the service.',
    stronger: 'Your identity provider will ask you for a stronger check than usual.',
    go: (idp) => `Continue to ${idp}`,
    other: 'If you do not want to go on, close this page: nothing will be sent to the service.',
  },
};

/** The interstitial; `stronger` when the step-up asks for a higher level than the login reached. */
export function stepUpPage(lang: Language, idpName: string, stronger: boolean, start: LoginStart): string {
  const w = WORDS[lang];
  const label = escapeHtml(w.go(idpName));
  const action =
    start.binding === 'post'
      ? `<form method="post" action="${escapeHtml(start.url)}">${Object.entries(start.fields)
          .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
          .join('')}<button type="submit" class="primary">${label}</button></form>`
      : `<p><a class="button primary" href="${escapeHtml(start.url)}">${label}</a></p>`;
  const body = `<h1>${escapeHtml(w.title)}</h1>
<p id="step-up-why">${escapeHtml(stepUpReason(lang))}</p>
<p>${escapeHtml(w.again)}</p>
${stronger ? `<p>${escapeHtml(w.stronger)}</p>` : ''}
${action}
<p>${escapeHtml(w.other)}</p>`;
  return page(w.title, body, lang);
}
