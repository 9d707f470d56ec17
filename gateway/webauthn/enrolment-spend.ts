/**
 * Spending an enrolment grant: one key per grant, whatever runs at once (what Redis keeps of it: never the person's
 * name, step-up.ts). The grant becomes the account page's own
 * (level 0, unconfirmed) only if it is still the very grant this request read (account, level, binding, confirmation,
 * login) and still allows a key (level above 0), in one script on one key. Two registrations racing on one grant (the
 * second took its challenge before the first spent it) store one key: the delete-then-write it replaces let both
 * through, the second past the "confirm with an existing key first" rule its read came before (WebAuthn review,
 * thirty-seventh round).
 */
import type { Redis } from 'ioredis';
import { enrolmentKey } from '../session/enrolment-key.ts';
import { LuaScript } from '../store/lua-script.ts';
import { ENROLMENT_TTL_SECONDS, type EnrolmentGrant } from './step-up.ts';

/** KEYS[1] the grant; ARGV the account, level, binding, confirmed and auth time read, then the spent grant and its TTL. */
const SPEND = new LuaScript(`
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local grant = cjson.decode(raw)
if grant.accountId ~= ARGV[1] or tostring(grant.level) ~= ARGV[2] or grant.binding ~= ARGV[3]
  or tostring(grant.confirmed) ~= ARGV[4] or tostring(grant.authTime) ~= ARGV[5] then return 0 end
if (tonumber(grant.level) or 0) <= 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[6], 'EX', ARGV[7])
return 1
`);

/**
 * Spends `grant` (as this request read it) for one key; false when another request spent it first, or it changed.
 *
 * @example
 * if (!(await spendEnrolmentGrant(redis, uid, grant))) throw notAllowed('already used');
 */
export async function spendEnrolmentGrant(redis: Redis, uid: string, grant: EnrolmentGrant): Promise<boolean> {
  const { displayName: _name, ...stored } = grant;
  const spent = JSON.stringify({ ...stored, level: 0, confirmed: false });
  const read = [grant.accountId, String(grant.level), grant.binding, String(grant.confirmed), String(grant.authTime)];
  return (await SPEND.run(redis, [enrolmentKey(uid)], [...read, spent, ENROLMENT_TTL_SECONDS])) === 1;
}
