/**
 * DEK rotation of the session store's domain: when the active DEK is older than `maxAgeMs` (24 h), the
 * token generates a new one, which seals from then on; the retired ones stay and still open what they
 * sealed, so nobody is logged out. Every instance checks on a timer; a rotation is claimed in Redis
 * (`SET NX` on the active version) so that instances checking together rotate once. Instances that did
 * not rotate pick the new version up at their next check (`refresh`); until then they seal under the
 * previous one, which every instance still opens.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { KeyHierarchy } from '../../hsm/hierarchy/key-hierarchy.ts';

export class DekRotation {
  readonly #hierarchy: KeyHierarchy;
  readonly #redis: Redis;
  readonly #logger: Logger;
  readonly #maxAgeMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: { hierarchy: KeyHierarchy; redis: Redis; logger: Logger; maxAgeMs: number }) {
    this.#hierarchy = deps.hierarchy;
    this.#redis = deps.redis;
    this.#logger = deps.logger;
    this.#maxAgeMs = deps.maxAgeMs;
  }

  /** Rotates when the active DEK is too old. Returns the new version, or null. */
  async check(now: Date = new Date()): Promise<number | null> {
    await this.#hierarchy.refresh();
    const active = this.#hierarchy.records.find((r) => r.state === 'active');
    if (!active || now.getTime() - active.createdAt.getTime() < this.#maxAgeMs) return null;
    const claimed = await this.#redis
      .set(`dek-rotation:${this.#hierarchy.domain}:${active.version}`, String(process.pid), 'EX', 600, 'NX')
      .catch(() => null);
    if (claimed !== 'OK') return null;
    const record = await this.#hierarchy.rotate();
    this.#logger.info({ domain: record.domain, version: record.version }, 'session DEK rotated');
    return record.version;
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(
      () => void this.check().catch((err: unknown) => this.#logger.warn({ err }, 'session DEK rotation failed')),
      intervalMs,
    );
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
