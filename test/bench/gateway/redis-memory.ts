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
 * `t1a2b:oidc:Session:AbC…` → `oidc:Session:*`: segments of 12+ id-like characters (not all letters: `AuthorizationCode` stays), network prefixes and
 * cluster hash tags (`{s3}`) become `*`; the rest of the key (an IdP entityID…) is kept.
 */
export function keyShape(key: string, prefix: string): string {
  return key
    .slice(prefix.length)
    .split(':')
    .map((part) => (/^(?=.*[0-9_-])[A-Za-z0-9_-]{12,}$|^[0-9.]+\/\d+$|^\{\w+\}$/.test(part) ? '*' : part))
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

/** Per-item bytes between two snapshots: total and by key shape (shapes that grew only). */
export function bytesPer(before: KeySnapshot, after: KeySnapshot, items: number): { usedMemory: number; keys: number; byShape: Array<[string, number, number]> } {
  const byShape: Array<[string, number, number]> = [];
  let keys = 0;
  for (const [shape, a] of after.groups) {
    const b = before.groups.get(shape) ?? { keys: 0, bytes: 0 };
    if (a.bytes === b.bytes && a.keys === b.keys) continue;
    keys += a.bytes - b.bytes;
    byShape.push([shape, (a.keys - b.keys) / items, (a.bytes - b.bytes) / items]);
  }
  byShape.sort((x, y) => y[2] - x[2]);
  return { usedMemory: (after.usedMemory - before.usedMemory) / items, keys: keys / items, byShape };
}

/** Calls per command name (INFO commandstats). */
export async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1]!, Number(match[2]));
  return calls;
}
