/**
 * A Lua script run by its SHA-1 (`EVALSHA`): the script's text crosses the wire and is hashed by Redis
 * once per connection's server, not at every call as with `EVAL`. A server that does not hold it yet
 * (first call, restart, `SCRIPT FLUSH`, a failover to a replica) answers `NOSCRIPT`: the call is sent
 * again with `EVAL`, which also loads it. Same answers and same atomicity as `EVAL`.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export class LuaScript {
  readonly lua: string;
  readonly sha: string;

  constructor(lua: string) {
    this.lua = lua;
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  /**
   * Runs the script on `keys` with `args`.
   *
   * @example
   * const CLAIM = new LuaScript(`return redis.call('GET', KEYS[1])`);
   * await CLAIM.run(redis, ['login:1'], []);
   */
  async run(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}
