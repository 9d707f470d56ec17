/**
 * The logout pages oidc-provider renders itself: the logout confirmation and the post-logout page (errors:
 * error-page.ts). Server-rendered, no external assets, in French or English like the chooser; the action the
 * person came for (sign out) is the primary button, staying signed in the secondary one.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { escapeHtml, page } from '../http/html.ts';
import { requestLanguage, type Language } from '../http/language.ts';

const WORDS: Readonly<
  Record<
    Language,
    {
      title: string;
      ask: string;
      explain: string;
      yes: string;
      no: string;
      doneTitle: string;
      done: string;
      close: string;
    }
  >
> = {
  fr: {
    title: 'Déconnexion',
    ask: 'Voulez-vous vous déconnecter ?',
    explain:
      'Vous serez déconnecté de la passerelle d’identification ; les services qui l’utilisent vous demanderont de vous identifier à nouveau.',
    yes: 'Oui, me déconnecter',
    no: 'Non, rester connecté',
    doneTitle: 'Déconnecté',
    done: 'Vous êtes déconnecté.',
    close: 'Vous pouvez fermer cette fenêtre.',
  },
  en: {
    title: 'Sign out',
    ask: 'Do you want to sign out?',
    explain: 'You will be signed out of the identity gateway; the services that use it will ask you to sign in again.',
    yes: 'Yes, sign me out',
    no: 'No, stay signed in',
    doneTitle: 'Signed out',
    done: 'You are signed out.',
    close: 'You can close this window.',
  },
};

/** The confirmation, in the person's language (as the chooser: `?lang=`, cookie, Accept-Language, French). */
export async function renderLogoutPage(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  const lang = requestLanguage(ctx);
  const w = WORDS[lang];
  ctx.type = 'html';
  ctx.set('Content-Language', lang);
  ctx.body = page(
    w.title,
    `<h1>${escapeHtml(w.ask)}</h1>
<p>${escapeHtml(w.explain)}</p>
${form}
<p><button form="op.logoutForm" type="submit" name="logout" value="yes" class="primary" autofocus>${escapeHtml(w.yes)}</button>
<button form="op.logoutForm" type="submit" class="secondary">${escapeHtml(w.no)}</button></p>`,
    lang,
  );
}

export async function renderLogoutSuccessPage(ctx: KoaContextWithOIDC): Promise<void> {
  const lang = requestLanguage(ctx);
  const w = WORDS[lang];
  ctx.type = 'html';
  ctx.set('Content-Language', lang);
  ctx.body = page(w.doneTitle, `<h1>${escapeHtml(w.done)}</h1><p>${escapeHtml(w.close)}</p>`, lang);
}
