/**
 * One rate-limit decision in Redis: several token buckets checked and taken together, atomically, in one
 * EVALSHA (a Lua script runs alone on the server: no other decision interleaves). Lua rather than
 * rate-limiter-flexible (not installed): one round trip for all the buckets of a request, the server's clock
 * (`TIME`) for every instance, and the script is forty lines anyone can read.
 *
 * KEYS: the buckets (hashes `t` tokens, `ts` ms of the last take). ARGV: per key, capacity, refill per second,
 * cost (0 = only checked: the failures bucket before the request). A bucket admits when it holds ≥ 1 token.
 * Answer: 0 when admitted (every cost taken), otherwise `{ms, i, …}`: the milliseconds until the emptiest bucket
 * refills one token, then the 1-based positions of every bucket under one token (nothing taken). Every key of one decision shares the hash tag `{rl}` (one Redis Cluster slot).
 *
 * A bucket only checked (cost 0: the failures buckets, on every limited request) is not written back (issue
 * #14: two server-side calls fewer per limited request, and no key created for an address that never
 * failed). The same state follows: the refill is linear and capped, so `min(cap, min(cap, t + a) + b)` is
 * `min(cap, t + a + b)` — refilling later from the stored `t, ts` gives what storing the refilled value now
 * would have (without its rounding to 14 digits) — and the key's expiry, set when it was last taken, falls
 * when it is full again (cap / rate after its last take, from ≥ 0 tokens), where a missing key reads full.
 */
export const BUCKET_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local empty = {}
local tokens = {}
for i = 1, #KEYS do
  local cap = tonumber(ARGV[3 * i - 2])
  local rate = tonumber(ARGV[3 * i - 1])
  local h = redis.call('HMGET', KEYS[i], 't', 'ts')
  local left = tonumber(h[1])
  local ts = tonumber(h[2])
  if left == nil or ts == nil then left = cap; ts = now end
  if now > ts then left = math.min(cap, left + (now - ts) * rate / 1000) end
  tokens[i] = left
  if left < 1 then
    local w = math.ceil((1 - left) * 1000 / rate)
    if w > wait then wait = w end
    empty[#empty + 1] = i
  end
end
if wait > 0 then
  table.insert(empty, 1, wait)
  return empty
end
for i = 1, #KEYS do
  local cost = tonumber(ARGV[3 * i])
  if cost > 0 then
    local cap = tonumber(ARGV[3 * i - 2])
    local rate = tonumber(ARGV[3 * i - 1])
    redis.call('HSET', KEYS[i], 't', tostring(tokens[i] - cost), 'ts', tostring(now))
    redis.call('PEXPIRE', KEYS[i], math.ceil(cap * 1000 / rate) + 1000)
  end
end
return 0
`;
