/**
 * The JUnit XML report: one `<testsuite>` per plan, one `<testcase>` per check (classname = plan, name =
 * "id title"); `fail` → `<failure>`, `skipped` → `<skipped message=reason>`; sent/expected/observed in
 * `<system-out>`. Every value is XML-escaped.
 */
import type { CheckResult, SuiteReport } from '../types.ts';

function esc(value: string): string {
  return (
    value
      .replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replaceAll('"', '&quot;')
      .replaceAll("'", '&apos;')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
  );
}

function testcase(r: CheckResult): string {
  const detail = `source: ${r.source}\nsent: ${r.sent}\nexpected: ${r.expected}\nobserved: ${r.observed}`;
  const body =
    r.verdict === 'fail'
      ? `<failure message="${esc(`expected ${r.expected}; observed ${r.observed}`)}" type="${esc(r.id)}">${esc(detail)}</failure>`
      : r.verdict === 'skipped'
        ? `<skipped message="${esc(r.reason ?? '')}"/>`
        : '';
  return `    <testcase classname="${esc(`conformance.${r.plan}`)}" name="${esc(`${r.id} ${r.title}`)}" time="${(r.durationMs / 1000).toFixed(3)}">${body}<system-out>${esc(detail)}</system-out></testcase>`;
}

/**
 * @example writeFileSync('report/conformance.junit.xml', junitReport(report));
 */
export function junitReport(report: SuiteReport): string {
  const suites = report.plans.map((plan) => {
    const results = report.results.filter((r) => r.plan === plan);
    const count = (v: CheckResult['verdict']): number => results.filter((r) => r.verdict === v).length;
    const time = results.reduce((sum, r) => sum + r.durationMs, 0) / 1000;
    return `  <testsuite name="${esc(`conformance.${plan}`)}" tests="${results.length}" failures="${count('fail')}" errors="0" skipped="${count('skipped')}" time="${time.toFixed(3)}" timestamp="${esc(report.startedAt)}">\n${results.map(testcase).join('\n')}\n  </testsuite>`;
  });
  const { total, fail, skipped } = report.summary;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${esc(`conformance ${report.target}`)}" tests="${total}" failures="${fail}" errors="0" skipped="${skipped}">\n${suites.join('\n')}\n</testsuites>\n`;
}
