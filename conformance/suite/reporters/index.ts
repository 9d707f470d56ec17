/**
 * Writes the three reports of a run into one directory: `conformance.json`, `conformance.junit.xml`,
 * `conformance.html`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SuiteReport } from '../types.ts';
import { htmlReport } from './html.ts';
import { jsonReport } from './json.ts';
import { junitReport } from './junit.ts';

export { htmlReport, jsonReport, junitReport };

/** Paths of the written reports. */
export interface WrittenReports {
  json: string;
  junit: string;
  html: string;
}

/**
 * @example const { html } = writeReports(report, 'report/');
 */
export function writeReports(report: SuiteReport, dir: string): WrittenReports {
  const out = resolve(dir);
  mkdirSync(out, { recursive: true });
  const paths = {
    json: join(out, 'conformance.json'),
    junit: join(out, 'conformance.junit.xml'),
    html: join(out, 'conformance.html'),
  };
  writeFileSync(paths.json, jsonReport(report));
  writeFileSync(paths.junit, junitReport(report));
  writeFileSync(paths.html, htmlReport(report));
  return paths;
}
