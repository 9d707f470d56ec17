/**
 * The chooser page's words in French and English, and how the language is picked: `?lang=` (then
 * remembered in a cookie), else the remembered choice, else the browser's Accept-Language, else French.
 * An unknown language is never an error: it falls back to French.
 */
import type { Context } from 'koa';
import { cookieName } from '../http/cookie-names.ts';
import { isLanguage, LANG_COOKIE, requestLanguage, type Language } from '../http/language.ts';

export { LANGUAGES, LANG_COOKIE, type Language } from '../http/language.ts';

export interface ChooserWords {
  title: string;
  intro: (service: string) => string;
  level: (acr: string) => string;
  signInWith: (idp: string) => string;
  lastUsed: string;
  unavailableLevel: string;
  noneAvailable: string;
  listLabel: string;
  languageLabel: string;
  whatIs: string;
  whatIsText: string;
  levelNames: Readonly<Record<string, string>>;
}

export const WORDS: Readonly<Record<Language, ChooserWords>> = {
  fr: {
    title: 'Choisissez votre compte pour vous identifier',
    intro: (service) => `${service} vous demande de prouver votre identité.`,
    level: (acr) => `Niveau de garantie exigé : ${acr}`,
    signInWith: (idp) => `S’identifier avec ${idp}`,
    lastUsed: 'Utilisé la dernière fois sur cet appareil',
    unavailableLevel: 'N’offre pas le niveau de garantie exigé par ce service',
    noneAvailable: 'Aucun fournisseur d’identité n’est disponible pour le moment. Réessayez plus tard.',
    listLabel: 'Fournisseurs d’identité',
    languageLabel: 'Langue',
    whatIs: 'Qu’est-ce que c’est ?',
    whatIsText:
      'Vous utilisez un compte que vous avez déjà auprès d’un fournisseur d’identité : le service ne voit jamais votre mot de passe.',
    levelNames: { eidas1: 'faible', eidas2: 'substantiel', eidas3: 'élevé' },
  },
  en: {
    title: 'Choose the account you sign in with',
    intro: (service) => `${service} asks you to prove who you are.`,
    level: (acr) => `Level of assurance required: ${acr}`,
    signInWith: (idp) => `Sign in with ${idp}`,
    lastUsed: 'Last used on this device',
    unavailableLevel: 'Does not offer the level of assurance this service requires',
    noneAvailable: 'No identity provider is available at the moment. Please try again later.',
    listLabel: 'Identity providers',
    languageLabel: 'Language',
    whatIs: 'What is this?',
    whatIsText: 'You use an account you already have with an identity provider: the service never sees your password.',
    levelNames: { eidas1: 'low', eidas2: 'substantial', eidas3: 'high' },
  },
};

/**
 * The page language for this request; a `?lang=` choice is remembered for a year.
 *
 * @example
 * const lang = pickLanguage(ctx, config.cookies.secure); // 'fr' | 'en'
 */
export function pickLanguage(ctx: Context, secure: boolean): Language {
  const asked = typeof ctx.query.lang === 'string' ? ctx.query.lang : undefined;
  if (isLanguage(asked)) {
    ctx.cookies.set(cookieName(LANG_COOKIE, secure), asked, {
      httpOnly: true,
      secure,
      sameSite: 'lax',
      path: '/',
      maxAge: 365 * 86_400_000,
      overwrite: true,
    });
    return asked;
  }
  return requestLanguage(ctx);
}
