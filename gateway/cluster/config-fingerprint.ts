/**
 * The fingerprint of a loaded configuration (the file and every secret it named, resolved): the cluster primary hands
 * its own to each worker it forks (`GW_CONFIG_FINGERPRINT`), and a worker whose configuration reads otherwise refuses
 * to serve (exit {@link CONFIG_CHANGED_EXIT}). A worker restarted after the file or a secret file changed (an edit in
 * progress, a rotated secret) would otherwise serve beside its siblings with other cookie keys, another pairwise salt
 * (other `sub`s) or other clients (config review, thirty-seventh round). The primary does not restart such a worker:
 * a new configuration takes a restart of the whole gateway.
 */
import { createHash } from 'node:crypto';

/** The worker's exit code when its configuration is not the primary's (sysexits EX_CONFIG). */
export const CONFIG_CHANGED_EXIT = 78;

/** The environment variable the primary passes its fingerprint in. */
export const FINGERPRINT_ENV = 'GW_CONFIG_FINGERPRINT';

/** JSON with object keys sorted at every depth (the same configuration, the same text). */
function stable(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Buffer.isBuffer(value)) return JSON.stringify(value.toString('base64'));
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(',')}}`;
}

/**
 * A SHA-256 of the resolved configuration as a worker serves it (secrets included, never shown: only the digest leaves
 * the process), without `workers`: only the primary reads it, and its default (the cores this process may use) can
 * change under a running gateway (a CPU resize, a new affinity) while nothing a worker serves did.
 *
 * @example
 * process.env.GW_CONFIG_FINGERPRINT = configFingerprint(config);
 */
export function configFingerprint(config: object): string {
  const { workers: _primaryOnly, ...served } = config as { workers?: unknown };
  return createHash('sha256').update(stable(served)).digest('base64url');
}
