/**
 * The fingerprint of a loaded configuration (the file and every secret it named, resolved): the cluster primary hands
 * its own to each worker it forks (`GW_CONFIG_FINGERPRINT`), and a worker whose configuration reads otherwise refuses
 * to serve (exit {@link CONFIG_CHANGED_EXIT}). A worker restarted after the file or a secret file changed (an edit in
 * progress, a rotated secret) would otherwise serve beside its siblings with other cookie keys, another pairwise salt
 * (other `sub`s) or other clients (config review, thirty-seventh round). The primary does not restart such a worker:
 * a new configuration takes a restart of the whole gateway.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/canonical.ts';

/** The worker's exit code when its configuration is not the primary's (sysexits EX_CONFIG). */
export const CONFIG_CHANGED_EXIT = 78;

/** The environment variable the primary passes its fingerprint in. */
export const FINGERPRINT_ENV = 'GW_CONFIG_FINGERPRINT';

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
  return createHash('sha256').update(canonicalJson(served)).digest('base64url');
}
