/**
 * Who may read GET /metrics. Secure by default: only loopback clients (127.0.0.0/8, ::1, and their
 * IPv4-mapped forms), judged on the socket's peer address — never on X-Forwarded-For, which a client
 * writes itself. `GW_METRICS_ALLOW` (or `BootOptions.metrics.allow`) adds exact addresses of scrapers
 * (comma-separated); `*` opens the endpoint to every client (only behind a network that restricts it).
 */
import { isIP } from 'node:net';
import { ConfigError } from '../errors.ts';

export interface MetricsAccess {
  /** Extra peer addresses allowed besides loopback; `any` opens the endpoint. */
  readonly allow: ReadonlySet<string> | 'any';
}

function normalise(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return (mapped ? mapped[1]! : address).toLowerCase();
}

/** Whether `address` is a loopback address. */
export function isLoopback(address: string): boolean {
  const a = normalise(address);
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

/**
 * Parses the allow list (`"10.0.0.5, fd00::9"`, `"*"`, or empty for loopback only). A malformed entry throws
 * `ConfigError` (the boot stops).
 */
export function parseMetricsAllow(value: string | readonly string[] | undefined): MetricsAccess {
  const entries = (typeof value === 'string' ? value.split(',') : value ?? []).map((s) => s.trim()).filter(Boolean);
  if (entries.includes('*')) return { allow: 'any' };
  for (const e of entries) if (isIP(e) === 0) throw new ConfigError('GW_METRICS_ALLOW', `not an IP address: ${e}`);
  return { allow: new Set(entries.map(normalise)) };
}

/**
 * Whether a client whose socket peer is `remoteAddress` may read the metrics.
 *
 * @example
 * metricsAllowed(ctx.req.socket.remoteAddress, parseMetricsAllow(process.env.GW_METRICS_ALLOW))
 */
export function metricsAllowed(remoteAddress: string | undefined, access: MetricsAccess): boolean {
  if (!remoteAddress) return false;
  if (access.allow === 'any' || isLoopback(remoteAddress)) return true;
  return access.allow.has(normalise(remoteAddress));
}
