/**
 * The HTML report: ONE self-contained page (inline CSS, no script, no external asset) a security officer
 * can read, file and print: target, date, verdict counts per plan, then every check with its id, title,
 * source, what was sent, expected and observed, and its verdict (skips with their reason).
 *
 * - Every interpolated value is HTML-escaped.
 * - Print: each check avoids page breaks inside; colours also carry a text label (PASS/FAIL/SKIPPED).
 */
import type { CheckResult, SuiteReport } from '../types.ts';

function esc(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const style = `
:root{--pass:#18753c;--fail:#ce0500;--skip:#716043}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1b1f;background:#fff;line-height:1.45}
header{background:#000091;color:#fff;padding:1.25rem 2rem}
header h1{margin:0 0 .25rem;font-size:1.5rem} header p{margin:0;opacity:.9}
main{padding:1rem 2rem 3rem;max-width:70rem}
.summary{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.tile{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:8rem}
.tile b{display:block;font-size:1.6rem}
.pass b,.v-pass{color:var(--pass)} .fail b,.v-fail{color:var(--fail)} .skipped b,.v-skipped{color:var(--skip)}
table.plans{border-collapse:collapse;margin:.5rem 0 1.5rem} table.plans th,table.plans td{border-bottom:1px solid #ddd;padding:.3rem .8rem;text-align:left}
section.check{border:1px solid #ddd;border-left:6px solid var(--skip);border-radius:4px;margin:.6rem 0;padding:.5rem .9rem;break-inside:avoid}
section.check.pass{border-left-color:var(--pass)} section.check.fail{border-left-color:var(--fail)}
section.check h3{margin:.1rem 0 .3rem;font-size:1rem} .id{font-family:ui-monospace,monospace}
.verdict{float:right;font-weight:700} dl{display:grid;grid-template-columns:7rem 1fr;gap:.15rem .8rem;margin:.2rem 0;font-size:.92rem}
dt{color:#555} dd{margin:0;word-break:break-word}
h2{margin-top:2rem;border-bottom:2px solid #000091;padding-bottom:.2rem}
@media print{header{background:#fff;color:#000;border-bottom:3px solid #000} main{max-width:none} a{color:#000}}
`;

function check(r: CheckResult): string {
  const label = { pass: 'PASS', fail: 'FAIL', skipped: 'SKIPPED' }[r.verdict];
  const reason = r.verdict === 'skipped' ? `<dt>Skipped because</dt><dd>${esc(r.reason ?? '')}</dd>` : '';
  return `<section class="check ${r.verdict}" id="${esc(r.id)}">
<h3><span class="verdict v-${r.verdict}">${label}</span><span class="id">${esc(r.id)}</span> — ${esc(r.title)}</h3>
<dl><dt>Source</dt><dd>${esc(r.source)}</dd><dt>Sent</dt><dd>${esc(r.sent)}</dd><dt>Expected</dt><dd>${esc(r.expected)}</dd><dt>Observed</dt><dd>${esc(r.observed)}</dd>${reason}<dt>Duration</dt><dd>${r.durationMs} ms</dd></dl>
</section>`;
}

/**
 * @example writeFileSync('report/conformance.html', htmlReport(report));
 */
export function htmlReport(report: SuiteReport): string {
  const { total, pass, fail, skipped } = report.summary;
  const failedLine = fail === 0 ? 'No check failed' : `${fail} check${fail === 1 ? '' : 's'} failed`;
  // a skipped check was not judged: the headline never lets a run of skips read as a clean bill
  const overall =
    pass + fail === 0
      ? 'Nothing was judged: every check was skipped'
      : skipped > 0
        ? `${failedLine}; ${skipped} of ${total} were skipped, not judged`
        : failedLine;
  const rows = report.plans
    .map((plan) => {
      const rs = report.results.filter((r) => r.plan === plan);
      const n = (v: CheckResult['verdict']): number => rs.filter((r) => r.verdict === v).length;
      return `<tr><th scope="row">${esc(plan)}</th><td>${rs.length}</td><td class="v-pass">${n('pass')}</td><td class="v-fail">${n('fail')}</td><td class="v-skipped">${n('skipped')}</td></tr>`;
    })
    .join('');
  const failed = report.results.filter((r) => r.verdict === 'fail');
  const failList =
    failed.length === 0
      ? ''
      : `<h2>Failed checks</h2><ul>${failed.map((r) => `<li><a href="#${esc(r.id)}">${esc(r.id)}</a> — ${esc(r.title)}</li>`).join('')}</ul>`;
  const sections = report.plans
    .map(
      (plan) =>
        `<h2>Plan ${esc(plan)}</h2>${report.results
          .filter((r) => r.plan === plan)
          .map(check)
          .join('\n')}`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Conformance report — ${esc(report.target)}</title>
<style>${style}</style>
</head>
<body>
<header><h1>Conformance report</h1><p>Target <strong>${esc(report.target)}</strong> · ${esc(report.startedAt)} → ${esc(report.finishedAt)} · suite ${esc(report.suiteVersion)}</p></header>
<main>
<p><strong>${esc(overall)}.</strong> A check passes only on what the deployment did over HTTP; a skipped check states why it could not be judged.</p>
<div class="summary"><div class="tile"><b>${total}</b>checks</div><div class="tile pass"><b>${pass}</b>passed</div><div class="tile fail"><b>${fail}</b>failed</div><div class="tile skipped"><b>${skipped}</b>skipped</div></div>
<table class="plans"><thead><tr><th scope="col">Plan</th><th scope="col">Checks</th><th scope="col">Passed</th><th scope="col">Failed</th><th scope="col">Skipped</th></tr></thead><tbody>${rows}</tbody></table>
${failList}
${sections}
</main>
</body>
</html>
`;
}
