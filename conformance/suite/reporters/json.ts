/**
 * The JSON report: the whole `SuiteReport`, pretty-printed, stable field order (what tools ingest).
 */
import type { SuiteReport } from '../types.ts';

/**
 * @example writeFileSync('report/conformance.json', jsonReport(report));
 */
export function jsonReport(report: SuiteReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
