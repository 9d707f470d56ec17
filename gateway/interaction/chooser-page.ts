/**
 * The IdP chooser, in the style of FranceConnect's button page: one form, one real `<button>` per
 * identity provider, server-rendered, no JavaScript, no external assets.
 *
 * - Accessible: `lang` on the page, a skip link, one `h1`, the list labelled for screen readers, each
 *   button's name is its full action ("Sign in with …"), the level and the "last used" hint are tied to
 *   their button with `aria-describedby`, visible focus (3 px outline), 44 px targets, text contrast
 *   ≥ 7:1 (white on #000091 is 15.3:1, #3a3a3a on white 11.4:1).
 * - French and English (`chooser-i18n.ts`), with a language switch that is a plain link.
 * - The IdP used last on this device comes first and says so; unavailable IdPs are not passed in at all
 *   (the caller hides them); IdPs below the required level are shown disabled, with the reason.
 */
import { behaviourScriptTag } from '../behaviour/script.ts';
import { escapeHtml } from '../http/html.ts';
import { LANGUAGES, WORDS, type Language } from './chooser-i18n.ts';

export interface ChooserEntry {
  id: string;
  displayName: string;
  available: boolean;
  reason?: string;
  lastUsed?: boolean;
}

const STYLE = `
*{box-sizing:border-box}
body{font-family:Marianne,system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#161616;background:#f6f6f6;line-height:1.5}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:1}
header{background:#fff;border-bottom:1px solid #ddd;padding:1rem 1.5rem;display:flex;justify-content:space-between;align-items:center}
header .brand{font-weight:700;color:#000091}
nav.lang a{color:#000091;margin-left:.75rem;text-decoration:underline;padding:.5rem}
nav.lang a[aria-current]{font-weight:700;text-decoration:none}
main{max-width:36rem;margin:2rem auto;padding:2rem 1.5rem;background:#fff;border-radius:.25rem}
h1{font-size:1.5rem;margin-top:0}
p.level{color:#3a3a3a}
ul.idps{list-style:none;padding:0;margin:1.5rem 0}
ul.idps li{margin:0 0 1rem}
button.idp{display:flex;flex-direction:column;align-items:flex-start;width:100%;min-height:3.5rem;font:inherit;font-size:1.05rem;font-weight:700;padding:.75rem 1.25rem;border:2px solid #000091;border-radius:.25rem;background:#000091;color:#fff;cursor:pointer;text-align:left}
button.idp:hover{background:#1212ff;border-color:#1212ff}
button.idp:focus{outline:3px solid #0a76f6;outline-offset:3px}
button.idp[disabled]{background:#e5e5e5;border-color:#e5e5e5;color:#3a3a3a;cursor:not-allowed}
.hint{display:block;font-size:.875rem;font-weight:400;margin-top:.25rem}
li.last{border-left:4px solid #18753c;padding-left:.75rem}
.last .hint{color:#fff}
details{margin-top:1.5rem;color:#3a3a3a}
summary{cursor:pointer;color:#000091;text-decoration:underline}
summary:focus{outline:3px solid #0a76f6;outline-offset:2px}
p.empty{padding:1rem;border-left:4px solid #ce0500;background:#fee9e9}
`;

/**
 * The chooser page for one login.
 *
 * @example
 * chooserPage({ uid, clientName: 'Impots.gouv', entries, requiredAcr: 'eidas2', lang: 'fr' });
 */
export function chooserPage(options: {
  uid: string;
  clientName: string;
  entries: ChooserEntry[];
  requiredAcr: string;
  lang?: Language;
}): string {
  const lang = options.lang ?? 'fr';
  const w = WORDS[lang];
  const e = escapeHtml;
  const items = options.entries
    .map((entry) => {
      const id = e(entry.id);
      const hint = entry.available
        ? entry.lastUsed
          ? `<span class="hint" id="hint-${id}">${e(w.lastUsed)}</span>`
          : ''
        : `<span class="hint" id="hint-${id}">${e(entry.reason ?? w.unavailableLevel)}</span>`;
      const describedBy = hint ? ` aria-describedby="hint-${id}"` : '';
      return entry.available
        ? `<li${entry.lastUsed ? ' class="last"' : ''}><button class="idp" type="submit" name="idp" value="${id}"${describedBy}>${e(w.signInWith(entry.displayName))}${hint}</button></li>`
        : `<li><button class="idp" type="button" disabled${describedBy}>${e(entry.displayName)}${hint}</button></li>`;
    })
    .join('\n');
  const switcher = LANGUAGES.map((l) => {
    const label = l === 'fr' ? 'Français' : 'English';
    return `<a href="/interaction/${e(options.uid)}?lang=${l}" hreflang="${l}" lang="${l}"${l === lang ? ' aria-current="true"' : ''}>${label}</a>`;
  }).join('');
  const levelName = w.levelNames[options.requiredAcr] ?? options.requiredAcr;
  const body =
    options.entries.length === 0
      ? `<p class="empty" role="alert">${e(w.noneAvailable)}</p>`
      : `<form method="post" action="/interaction/${e(options.uid)}/idp">
<ul class="idps" aria-label="${e(w.listLabel)}">
${items}
</ul>
</form>`;
  return `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(w.title)}</title><style>${STYLE}</style></head>
<body><a class="skip" href="#main">${lang === 'fr' ? 'Aller au contenu' : 'Skip to content'}</a>
<header><span class="brand">${lang === 'fr' ? 'Identification' : 'Sign in'}</span><nav class="lang" aria-label="${e(w.languageLabel)}">${switcher}</nav></header>
<main id="main">
<h1>${e(w.title)}</h1>
<p>${e(w.intro(options.clientName))}</p>
<p class="level">${e(w.level(levelName))} (<code>${e(options.requiredAcr)}</code>)</p>
${body}
<details><summary>${e(w.whatIs)}</summary><p>${e(w.whatIsText)}</p></details>
</main>${behaviourScriptTag(options.uid)}</body>
</html>`;
}
