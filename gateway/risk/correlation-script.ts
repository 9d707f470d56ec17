/**
 * The correlation stage's Redis work as one Lua script (issue #14: a MULTI of 21 commands was 23 commands
 * built, sent, queued and answered one by one on both sides; a script is one command each way):
 *
 * - the four sliding windows (sorted sets: member = the distinct thing, score = last time seen): add,
 *   drop what fell out of the window, count, keep the set as long as its window;
 * - the identity's last location: read (it is written when a login of the identity is let through: `rememberPlace`);
 * - the distinct identities logging in through the IdP this minute (a HyperLogLog: one session sending
 *   `prompt=none` again and again is one identity, not a burst that would raise everyone's score; a login
 *   reprocessed late counts no twice; its expiry set when the bucket is created: a bucket is read for the 10
 *   minutes after its own, it lives 15) and in each of the 10 minutes before it.
 *
 * Atomic as the MULTI was. Every key carries the hash tag `{corr}`: one Redis Cluster slot, as a script's
 * keys must be.
 */
import { LuaScript } from '../store/lua-script.ts';

/** Previous minutes read for the IdP's baseline. */
export const BASELINE_MINUTES = 10;

/**
 * KEYS[1..4] the windows; KEYS[5] the identity's last location; KEYS[6] this minute's IdP bucket;
 * KEYS[7..16] the 10 minutes before it. ARGV[1] now (ms); for window i (1..4): ARGV[3i - 1] its member,
 * ARGV[3i] the oldest score kept, ARGV[3i + 1] its length (ms); ARGV[14] a bucket's TTL (ms); ARGV[15] the
 * identity. Returns {count of window 1..4, last location or nil, this minute's identities, {the 10 counts}}.
 */
export const CORRELATE = new LuaScript(`
local out = {}
for i = 1, 4 do
  redis.call('ZADD', KEYS[i], ARGV[1], ARGV[3 * i - 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[3 * i])
  out[i] = redis.call('ZCARD', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[3 * i + 1])
end
out[5] = redis.call('GET', KEYS[5])
redis.call('PFADD', KEYS[6], ARGV[15])
if redis.call('PTTL', KEYS[6]) < 0 then redis.call('PEXPIRE', KEYS[6], ARGV[14]) end
out[6] = redis.call('PFCOUNT', KEYS[6])
local before = {}
for i = 7, 6 + ${BASELINE_MINUTES} do before[i - 6] = redis.call('PFCOUNT', KEYS[i]) end
out[7] = before
return out
`);
