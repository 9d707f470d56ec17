/**
 * A refusal says which buckets refused it (`Decision.refusedBy`): every bucket of the decision that held less than a
 * token, by kind, each once — on both lines, Redis's script and this instance's local limiter, which decide alike.
 * An operator reading "rate limited" can then tell a NAT that used up its share of an IdP from the IdP saturated.
 */
import { randomUUID } from 'node:crypto';
import test from 'ava';
import { bucketKey, type Bucket, type BucketKind } from '../../../gateway/ratelimit/bucket.ts';
import { RateLimiter } from '../../../gateway/ratelimit/limiter.ts';
import { LocalLimiter } from '../../../gateway/ratelimit/local-limiter.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisUrl } from '../../helpers/services.ts';

// one token per 100 s: nothing refills while a test runs
const SLOW = 0.01;

const bucket = (kind: BucketKind, capacity: number, cost: 0 | 1 = 1): Bucket => ({
  kind,
  key: bucketKey(kind, randomUUID()),
  capacity,
  perSecond: SLOW,
  cost,
});

const lines = {
  redis: async () => {
    const redis = createRedis({ url: redisUrl(), keyPrefix: `rl-refused-${randomUUID()}:` });
    await redis.ping(); // connected: the decisions are Redis's, not the local line's
    return {
      decide: (buckets: readonly Bucket[]) =>
        new RateLimiter(redis, { instanceShare: 1, redisTimeoutMs: 5000 }).decide(buckets),
      close: () => redis.disconnect(),
    };
  },
  local: async () => {
    const local = new LocalLimiter(1 / LOCAL_SCALE);
    return { decide: async (buckets: readonly Bucket[]) => local.decide(buckets), close: () => undefined };
  },
};
// the local line admits its share plus 10 %: a share of 1/1.1 makes a capacity of 2 admit 2 there too
const LOCAL_SCALE = 1.1;

for (const [name, open] of Object.entries(lines))
  test(`${name} line: a refusal names each empty bucket once, in the decision's order; an admission names none`, async (t) => {
    const line = await open();
    t.teardown(() => line.close());
    const global = bucket('global', 1000);
    const idp = bucket('idp', 2);
    const share = bucket('idp_address', 1);
    const failures = bucket('failures', 1000, 0);

    const first = await line.decide([global, idp, share, failures]);
    t.true(first.admitted);
    t.is(first.refusedBy, undefined);
    // the address's share is empty, the IdP still holds a token: the share refused, not the IdP
    const second = await line.decide([global, idp, share, failures]);
    t.false(second.admitted);
    t.deepEqual(second.refusedBy, ['idp_address']);
    // another address takes the IdP's last token; then both are empty for the first address
    t.true((await line.decide([global, idp, bucket('idp_address', 1)])).admitted);
    t.deepEqual((await line.decide([global, idp, share, failures])).refusedBy, ['idp', 'idp_address']);
    // two buckets of one kind (two addresses' shares in one made-up decision) name the kind once
    t.deepEqual((await line.decide([share, share])).refusedBy, ['idp_address']);
  });
