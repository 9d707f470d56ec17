/** Minimal, dependency-free HTML rendering: escaping and one accessible page frame with inline CSS. */
export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#161616;background:#fff;line-height:1.5}
h1{font-size:1.6rem}
button,.button{font:inherit;padding:.75rem 1.25rem;border:2px solid #000091;border-radius:.25rem;background:#000091;color:#fff;cursor:pointer;margin:.25rem 0}
button.secondary{background:#fff;color:#000091}
button:focus,a:focus,input:focus{outline:3px solid #0a76f6;outline-offset:2px}
ul.idps{list-style:none;padding:0}
ul.idps li{margin:.5rem 0}
code{background:#f0f0f0;padding:0 .25rem}
`;

export function page(title: string, body: string, lang = 'en'): string {
  return `<!doctype html>
<html lang="${escapeHtml(lang)}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body>
</html>`;
}

/** A form that posts itself (with a visible button for browsers without JavaScript). */
export function autoPostForm(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
  return page(
    'Continue',
    `<form method="post" action="${escapeHtml(action)}" id="auto">${inputs}
<p>Sending you on… If nothing happens, <button type="submit">continue</button>.</p></form>
<script>document.getElementById('auto').submit()</script>`,
  );
}
