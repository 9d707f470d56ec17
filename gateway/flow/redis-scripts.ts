/**
 * The Lua scripts that make a transition atomic in Redis, in three steps around the audit write:
 *
 * 1. CLAIM: compare the current state with the expected one and mark the login `pending` with a token;
 *    a second transition of the same login meanwhile finds the mark and is refused (`BUSY`);
 * 2. (the caller writes the audit record in PostgreSQL);
 * 3. COMMIT: only the holder of the token moves the state, refreshes the TTL and the deadline, and clears the
 *    mark; or RELEASE: the holder clears the mark and leaves the state as it was (audit failed).
 *
 * A claim older than its lease (its holder died between steps) may be taken over by the next caller.
 *
 * Run by SHA (`EVALSHA`, `store/lua-script.ts`). A live transition uses CLAIM_ANY: the state table's
 * sources of the target state are checked inside the claim, which answers the login's hash, so that the
 * transition does not read the login first (one round trip less). Inside Redis a live transition is 2 commands
 * making 7 calls: the claim reads the hash once and marks it; the commit reads the mark and the version
 * together, then clears the mark, writes the state, its expiry and its deadline.
 */
import { LuaScript } from '../store/lua-script.ts';

/**
 * KEYS[1] login hash. ARGV: expected state ('' for a new login), token, now ms, lease ms,
 * mode ('new' | 'live': deadline not passed | 'expired': deadline passed).
 * Returns OK | EXISTS | NOT_FOUND | CONFLICT | BUSY | EXPIRED | NOT_EXPIRED.
 */
export const CLAIM = new LuaScript(`
local f = redis.call('HMGET', KEYS[1], 'state', 'pending', 'pendingAt', 'deadline')
local state, pending, pendingAt, deadline = f[1], f[2], f[3], f[4]
local now, lease, mode = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local busy = pending and (tonumber(pendingAt) + lease > now)
if mode == 'new' then
  if state then return 'EXISTS' end
  if busy then return 'BUSY' end
  redis.call('HSET', KEYS[1], 'pending', ARGV[2], 'pendingAt', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], lease * 2)
  return 'OK'
end
if not state then return 'NOT_FOUND' end
if state ~= ARGV[1] then return 'CONFLICT' end
if busy then return 'BUSY' end
local overdue = deadline and deadline ~= '' and tonumber(deadline) <= now
if mode == 'live' and overdue then return 'EXPIRED' end
if mode == 'expired' and not overdue then return 'NOT_EXPIRED' end
redis.call('HSET', KEYS[1], 'pending', ARGV[2], 'pendingAt', ARGV[3])
return 'OK'
`);

/**
 * A live transition's claim. KEYS[1] login hash. ARGV: token, now ms, lease ms, then the states the
 * target may be entered from. Returns {'OK', the hash as field/value pairs}, or {refusal, state}:
 * NOT_FOUND | ILLEGAL (its state is not a source; it may be an unknown value) | EXPIRED | BUSY.
 * The hash is read once (HGETALL) and answered as it was before the mark.
 */
export const CLAIM_ANY = new LuaScript(`
local hash = redis.call('HGETALL', KEYS[1])
local f = {}
for i = 1, #hash, 2 do f[hash[i]] = hash[i + 1] end
local state, pending, pendingAt, deadline = f.state, f.pending, f.pendingAt, f.deadline
local now, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
if not state then return {'NOT_FOUND', ''} end
local allowed = false
for i = 4, #ARGV do if ARGV[i] == state then allowed = true break end end
if not allowed then return {'ILLEGAL', state} end
if deadline and deadline ~= '' and tonumber(deadline) <= now then return {'EXPIRED', state} end
if pending and (tonumber(pendingAt) + lease > now) then return {'BUSY', state} end
redis.call('HSET', KEYS[1], 'pending', ARGV[1], 'pendingAt', ARGV[2])
table.insert(hash, 1, 'OK')
return hash
`);

/**
 * KEYS[1] login hash, KEYS[2] its deadline set. ARGV: token, login id, deadline ms ('' when terminal),
 * TTL seconds, then field/value pairs to set. Returns 1 when applied, 0 when the claim was lost.
 */
export const COMMIT = new LuaScript(`
local f = redis.call('HMGET', KEYS[1], 'pending', 'version')
if f[1] ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'pending', 'pendingAt')
redis.call('HSET', KEYS[1], 'deadline', ARGV[3], 'version', (tonumber(f[2]) or 0) + 1, unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], ARGV[4])
if ARGV[3] == '' then redis.call('ZREM', KEYS[2], ARGV[2]) else redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2]) end
return 1
`);

/**
 * A commit that also claims the login for the transition that follows at once in the same request (an SSO
 * login: INITIATED, then FRAUD_CHECK): COMMIT, and the login marked `pending` with the next token in the same
 * call, so that nobody can move it in between. The next transition still writes its audit record before its
 * own COMMIT (or RELEASE). KEYS as COMMIT. ARGV: token, login id, deadline ms ('' when terminal), TTL seconds,
 * next token, now ms, then field/value pairs to set. Returns 1 when applied, 0 when the claim was lost.
 */
export const COMMIT_THEN_CLAIM = new LuaScript(`
local f = redis.call('HMGET', KEYS[1], 'pending', 'version')
if f[1] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'deadline', ARGV[3], 'version', (tonumber(f[2]) or 0) + 1, 'pending', ARGV[5], 'pendingAt', ARGV[6], unpack(ARGV, 7))
redis.call('EXPIRE', KEYS[1], ARGV[4])
if ARGV[3] == '' then redis.call('ZREM', KEYS[2], ARGV[2]) else redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2]) end
return 1
`);

/** KEYS[1] login hash. ARGV: token. Clears the claim; a login that was never started disappears. */
export const RELEASE = new LuaScript(`
if redis.call('HGET', KEYS[1], 'pending') ~= ARGV[1] then return 0 end
if redis.call('HEXISTS', KEYS[1], 'state') == 0 then redis.call('DEL', KEYS[1]) return 1 end
redis.call('HDEL', KEYS[1], 'pending', 'pendingAt')
return 1
`);
