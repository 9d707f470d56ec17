/**
 * oidc-provider accepts a DPoP proof whose `iat` is up to 300 s either side of now, and saves its `jti` for 300 s
 * from first use. A proof first used 300 s before its `iat` (a client whose clock runs fast) stays acceptable for
 * 600 s: once its `jti` was forgotten, a copy captured at first use (a logging proxy, an RP's log) would be taken
 * again at userinfo without the key. The adapter keeps every seen `jti` at least `REPLAY_KEEP_SECONDS` (the
 * window twice, and a minute), whatever expiry the library asks, and never shortens a longer one (a client
 * assertion kept until its `exp`). Real Redis, through oidc-provider's own ReplayDetection model.
 */
import test from 'ava';
import { createHash, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';
import { REPLAY_KEEP_SECONDS, redisAdapterFactory } from '../../../gateway/oidc/redis-adapter.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';

const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
test.after.always(() => redis.quit());
const provider = new Provider('http://127.0.0.1:1', { adapter: redisAdapterFactory(redis) });
const now = () => Math.floor(Date.now() / 1000);

/** The seconds Redis still keeps the replay record of `jti` presented by `client` (oidc-provider's id for it). */
const keptFor = (client: string, jti: string) =>
  redis.ttl(`oidc:ReplayDetection:${createHash('sha256').update(`${client}${jti}`).digest('base64url')}`);

test('a DPoP proof saved for 300 s is kept for its whole iat window, and a replay is seen', async (t) => {
  const jti = randomUUID();
  t.true(await provider.ReplayDetection.unique('rp-1', jti, now() + 300), 'first use');
  const kept = await keptFor('rp-1', jti);
  t.true(kept >= REPLAY_KEEP_SECONDS - 2, `kept ${kept} s`);
  t.true(REPLAY_KEEP_SECONDS >= 600, 'the iat window, 300 s either side of now');
  t.false(await provider.ReplayDetection.unique('rp-1', jti, now() + 300), 'a replay');
});

test('a client assertion kept until a later exp is not shortened', async (t) => {
  const jti = randomUUID();
  t.true(await provider.ReplayDetection.unique('rp-2', jti, now() + 3000));
  const kept = await keptFor('rp-2', jti);
  t.true(kept > 2900 && kept <= 3000, `kept ${kept} s`);
});

test('a proof seen long ago is still a replay once the record its first use saved has expired', async (t) => {
  // the record keeps the proof's own exp (300 s after first use) while Redis keeps the key 660 s: read back after
  // 315 s, oidc-provider took the record for expired, so "never seen", and let the replay through (attacker review,
  // twenty-ninth round). A record saved with its exp already 20 s past stands for that moment.
  const jti = randomUUID();
  t.true(await provider.ReplayDetection.unique('rp-3', jti, now() - 20), 'first use');
  t.true((await keptFor('rp-3', jti)) >= REPLAY_KEEP_SECONDS - 2);
  t.false(await provider.ReplayDetection.unique('rp-3', jti, now() + 300), 'a replay, whatever the first record says');
});
