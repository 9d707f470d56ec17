/** One token bucket of one decision: its Redis key (without the deployment prefix), size and refill. */
export interface Bucket {
  /** Which limit it is: global, client, ip, failures; idp, idp_address, identity, identity_failures, login (scoped.ts). */
  kind: 'global' | 'client' | 'ip' | 'failures' | 'idp' | 'idp_address' | 'identity' | 'identity_failures' | 'login';
  key: string;
  capacity: number;
  perSecond: number;
  /** Tokens taken when admitted: 1, or 0 for a bucket only checked (failures, charged after a failure). */
  cost: 0 | 1;
}

export interface Decision {
  admitted: boolean;
  /** Seconds the client should wait (Retry-After), ≥ 1 when refused. */
  retryAfterSeconds: number;
  /** Which line decided: the shared Redis buckets, or this instance's own (Redis unreachable). */
  line: 'redis' | 'local';
}

/** Every key of one decision in one Redis Cluster slot: the hash tag `{rl}`. */
export function bucketKey(...parts: string[]): string {
  return `rl:{rl}:${parts.map((p) => encodeURIComponent(p)).join(':')}`;
}

/** The bucket with its size and refill multiplied by `factor` (adaptive shedding); never under one token. */
export function scaled(bucket: Bucket, factor: number): Bucket {
  if (factor === 1) return bucket;
  return { ...bucket, capacity: Math.max(1, bucket.capacity * factor), perSecond: bucket.perSecond * factor };
}
