/** Which limit a bucket is (scoped.ts for the handlers' own). */
export type BucketKind =
  | 'global'
  | 'client'
  | 'client_new_browsers'
  | 'client_device'
  | 'client_backchannel'
  | 'ip'
  | 'failures'
  | 'idp'
  | 'idp_address'
  | 'idp_new_browsers'
  | 'idp_device'
  | 'identity'
  | 'identity_failures'
  | 'identity_new_devices'
  | 'login';

/** One token bucket of one decision: its Redis key (without the deployment prefix), size and refill. */
export interface Bucket {
  /**
   * Which limit it is: global, client (an RP's authorization requests), client_new_browsers, client_device,
   * client_backchannel (its token and PAR calls), ip, failures (request-buckets.ts); idp, idp_address,
   * idp_new_browsers, idp_device, identity, identity_failures, identity_new_devices, login (scoped.ts).
   */
  kind: BucketKind;
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
  /**
   * When refused, the kinds of the buckets that held less than a token (each once, in the decision's order): an
   * address's share of an IdP is not the IdP's saturation, nor an address's bucket the RP's.
   */
  refusedBy?: readonly BucketKind[];
}

/** The kinds of the buckets under 1 token, each once, from their positions in a decision. */
export function kindsAt(buckets: readonly Bucket[], positions: Iterable<number>): BucketKind[] {
  const kinds: BucketKind[] = [];
  for (const i of positions) {
    const kind = buckets[i]?.kind;
    if (kind !== undefined && !kinds.includes(kind)) kinds.push(kind);
  }
  return kinds;
}

/** Whether `decision` was refused by buckets of that one kind only (a device past its own share, say). */
export function onlyRefusedBy(decision: Decision, kind: BucketKind): boolean {
  return !decision.admitted && decision.refusedBy?.length === 1 && decision.refusedBy[0] === kind;
}

/**
 * A known device past its own share (`first`, refused by its device's bucket alone) that then tried the new browsers'
 * part (`second`): refused, both empty buckets are named, and the wait is the shorter (either refills a way in).
 */
export function afterSpill(first: Decision, second: Decision): Decision {
  if (second.admitted) return second;
  return {
    ...second,
    refusedBy: [...new Set([...(first.refusedBy ?? []), ...(second.refusedBy ?? [])])],
    retryAfterSeconds: Math.min(first.retryAfterSeconds, second.retryAfterSeconds),
  };
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
