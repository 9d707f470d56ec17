/**
 * The language of a page, French or English: `?lang=`, else the remembered choice (cookie), else the
 * browser's Accept-Language, else French. An unknown language is never an error: it falls back to French.
 * Read-only here; the chooser (interaction/chooser-i18n.ts) also remembers a `?lang=` choice.
 */
import type { Context } from 'koa';
import { preferenceCookie } from './cookie-names.ts';

export const LANGUAGES = ['fr', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
/** The remembered language's cookie, base name: `__Host-gw_lang` in deployments (http/cookie-names.ts). */
export const LANG_COOKIE = 'gw_lang';

export function isLanguage(value: string | undefined): value is Language {
  return value !== undefined && (LANGUAGES as readonly string[]).includes(value);
}

/**
 * @example
 * const lang = requestLanguage(ctx); // 'fr' | 'en'
 */
export function requestLanguage(ctx: Context): Language {
  const asked = typeof ctx.query.lang === 'string' ? ctx.query.lang : undefined;
  if (isLanguage(asked)) return asked;
  const remembered = preferenceCookie(ctx, LANG_COOKIE);
  if (isLanguage(remembered)) return remembered;
  const accepted = ctx.acceptsLanguages([...LANGUAGES]);
  return typeof accepted === 'string' && isLanguage(accepted) ? accepted : 'fr';
}
