/**
 * HTML for the demo pages: escaping, one accessible page shell with inline CSS (no external assets).
 *
 * - Every interpolated value goes through `escapeHtml`.
 * - Pages declare `lang`, a viewport, a `<main>` landmark and a heading.
 */

/** Escapes text for HTML element and attribute contexts. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const style = `
body{font-family:system-ui,sans-serif;margin:0;background:#f5f5f7;color:#1b1b1f;line-height:1.5}
main{max-width:44rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 3px #0002}
h1{font-size:1.5rem;margin-top:0} label{display:block;font-weight:600;margin-top:1rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #555;border-radius:4px}
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;background:#000091;color:#fff;border:0;border-radius:4px;cursor:pointer}
button:focus,input:focus{outline:3px solid #ff9940;outline-offset:2px}
table{border-collapse:collapse;width:100%} th,td{text-align:left;border-bottom:1px solid #ddd;padding:.35rem .5rem;vertical-align:top}
code{background:#eee;padding:0 .2rem;border-radius:3px;word-break:break-all}
.error{border-left:4px solid #ce0500;background:#fee;padding:.5rem 1rem}
.note{color:#555;font-size:.9rem}
`;

/**
 * A complete HTML document around already-escaped body HTML.
 *
 * @param title page title (escaped here).
 * @param bodyHtml trusted HTML (callers escape what they interpolate).
 * @param headExtra optional extra trusted markup for `<head>`.
 * @example page('Sign in', `<p>${escapeHtml(name)}</p>`)
 */
export function page(title: string, bodyHtml: string, headExtra = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${style}</style>
${headExtra}
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${bodyHtml}
</main>
</body>
</html>
`;
}

/** A hidden form input, escaped. */
export function hiddenInput(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}
