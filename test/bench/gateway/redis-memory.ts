/**
 * What the gateway keeps in Redis, measured from the outside: MEMORY USAGE of every key under the
 * deployment's prefix, grouped by the key's shape (random segments replaced by `*`), plus INFO memory's
 * used_memory; and INFO commandstats (calls per command) for round-trip counting from the server side.
 */
import type { Redis } from 'ioredis';

export interface KeySnapshot {
  usedMemory: number;
  groups: Map<string, { keys: number; bytes: number }>;
}

/**
 * `t1a2b:oidc:Session:AbC…` → `oidc:Session:*`: segments of 12+ id-like characters (but not CamelCase model
 * names such as `AuthorizationCode`), network prefixes and
 * cluster hash tags (`{s3}`) become `*`; the rest of the key (an IdP entityID…) is kept.
 */
function isVariable(part: string): boolean {
  if (/^(?:[A-Z][a-z]+)+$/.test(part)) return false; // a model name: AuthorizationCode, Session
  return /^[A-Za-z0-9_-]{12,}$/.test(part) || /^[0-9.]+\/\d+$/.test(part) || /^\{\w+\}$/.test(part);
}

export function keyShape(key: string, prefix: string): string {
  return key
    .slice(prefix.length)
    .split(':')
    .map((part) => (isVariable(part) ? '*' : part))
    .join(':');
}

export async function keySnapshot(redis: Redis, prefix: string): Promise<KeySnapshot> {
  const groups = new Map<string, { keys: number; bytes: number }>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const bytes = Number((await redis.memory('USAGE', key, 'SAMPLES', '0')) ?? 0);
      const shape = keyShape(key, prefix);
      const group = groups.get(shape) ?? { keys: 0, bytes: 0 };
      group.keys += 1;
      group.bytes += bytes;
      groups.set(shape, group);
    }
  } while (cursor !== '0');
  const info = await redis.info('memory');
  return { usedMemory: Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN), groups };
}

/**
 * Per-item bytes between two snapshots, by key shape: `added` sums the shapes that grew (what the items
 * left in Redis), `freed` the ones that shrank meanwhile (earlier keys consumed or expired).
 */
export function bytesPer(
  before: KeySnapshot,
  after: KeySnapshot,
  items: number,
): { usedMemory: number; added: number; freed: number; byShape: Array<[string, number, number]> } {
  const byShape: Array<[string, number, number]> = [];
  let added = 0;
  let freed = 0;
  const shapes = new Set([...before.groups.keys(), ...after.groups.keys()]);
  for (const shape of shapes) {
    const a = after.groups.get(shape) ?? { keys: 0, bytes: 0 };
    const b = before.groups.get(shape) ?? { keys: 0, bytes: 0 };
    if (a.bytes === b.bytes && a.keys === b.keys) continue;
    if (a.bytes > b.bytes) added += a.bytes - b.bytes;
    else freed += b.bytes - a.bytes;
    byShape.push([shape, (a.keys - b.keys) / items, (a.bytes - b.bytes) / items]);
  }
  byShape.sort((x, y) => y[2] - x[2]);
  return {
    usedMemory: (after.usedMemory - before.usedMemory) / items,
    added: added / items,
    freed: freed / items,
    byShape,
  };
}

/** Calls per command name (INFO commandstats). */
export async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1]!, Number(match[2]));
  return calls;
}
