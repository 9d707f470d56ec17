/**
 * OIDC-OPS-01 — the admin API, metrics and readiness are not served on the public URL (issue #10 item 13).
 * Gating them on the peer address is no boundary: behind a same-host reverse proxy every request comes
 * from 127.0.0.1. A deployment serves them on a separate operations listener, so on the public URL:
 *
 * - 404 (not here), 403 or 421 (refused outright) pass;
 * - 2xx fails (served), and so does 401 (the API is there, one leaked credential away), and any body that
 *   looks like a Prometheus exposition or a readiness report.
 */
import type { SuiteContext } from '../../context.ts';
import { judge, type CheckDefinition, type Outcome } from '../../types.ts';

/** The operations paths probed on the public URL. */
export const OPERATIONS_PATHS = ['/metrics', '/ready', '/admin/reviews', '/admin/metrics', '/admin/idps'] as const;

/** Probes each operations path on `ctx.target` and judges the answers. */
export async function operationsNotPublic(ctx: Pick<SuiteContext, 'target'>): Promise<Outcome> {
  const base = ctx.target.href.replace(/\/$/, '');
  const lines: string[] = [];
  let ok = true;
  for (const path of OPERATIONS_PATHS) {
    const answer = await fetch(`${base}${path}`, { headers: { accept: 'application/json' }, redirect: 'manual' });
    const body = await answer.text();
    const exposed =
      (answer.status >= 200 && answer.status < 300) ||
      answer.status === 401 ||
      body.includes('# TYPE ') ||
      /"checks"\s*:/.test(body);
    ok &&= !exposed;
    lines.push(`${path}: HTTP ${answer.status}${exposed ? ' (served)' : ''}`);
  }
  return judge(ok, {
    sent: `GET ${OPERATIONS_PATHS.join(', ')} on the public URL, from the suite's own address`,
    expected: 'none served (404): they belong on a separate, authenticated operations listener',
    observed: lines.join('; '),
  });
}

/** The checks. */
export const operationsSurfaceChecks: readonly CheckDefinition[] = [
  {
    id: 'OIDC-OPS-01',
    title: 'Admin API, metrics and readiness are not served on the public URL',
    plan: 'oidc',
    source: 'OWASP ASVS 4.0 §14.3 (unintended exposure), §1.14 (segregated management interfaces)',
    run: (ctx) => operationsNotPublic(ctx),
  },
];
