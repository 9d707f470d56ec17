/**
 * A per-request memo of records read from the session store (and of oidc-provider's Interaction): within
 * one HTTP request, oidc-provider and the gateway read the same records several times (a token request
 * reads the session three times and the account twice: `findByUid`, the token's session version at each
 * token's save, `findAccount` and `extraTokenClaims`). The first read goes to Redis (or PostgreSQL); the
 * others in the same request get its answer.
 *
 * - the memo lives only as long as the request (`runWithRequestMemo` around the middleware chain, an
 *   AsyncLocalStorage); outside a request (timers, CLIs) nothing is memoised;
 * - a write through the store replaces the entry with what was written; an end, a consumption or a
 *   revocation forgets everything the request memoised (the next read goes to the stores again);
 * - it never widens a race: a record changed by another instance during the request is read as it was at
 *   the request's first read of it, as with a request that read it once.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RecordKind } from './stored-record.ts';

/** The memo's entry of a session-store record. */
export const memoKey = (kind: RecordKind, recordKey: Buffer) => `s2:${kind}:${recordKey.toString('hex')}`;
/** The memo's entry of a session's pointer (its cookie id or a sid → its record key). */
export const pointerMemoKey = (by: 'lookup' | 'sid', key: Buffer) => `s2p:${by}:${key.toString('hex')}`;
/** The memo's entry of a session this request ended: its sid pointers, which outlive the end. */
export const endedMemoKey = (recordKey: Buffer) => `s2e:${recordKey.toString('hex')}`;
/** Every kind a record key may be memoised under (an end forgets the ended keys under each). */
export const MEMO_KINDS: readonly RecordKind[] = [
  'Session',
  'Grant',
  'AccessToken',
  'RefreshToken',
  'Identity',
  'UpstreamSession',
];

const memo = new AsyncLocalStorage<Map<string, Promise<unknown>>>();

/** Runs `work` (the rest of the middleware chain) with a fresh memo. */
export function runWithRequestMemo<T>(work: () => Promise<T>): Promise<T> {
  return memo.run(new Map(), work);
}

/** Whether this code runs inside a request (a memo is active). */
export function inRequest(): boolean {
  return memo.getStore() !== undefined;
}

/** The memoised answer for `key` in this request, or `read()`'s (memoised when it succeeds). */
export function memoised<T>(key: string, read: () => Promise<T>): Promise<T> {
  const entries = memo.getStore();
  if (!entries) return read();
  const held = entries.get(key) as Promise<T> | undefined;
  if (held) return held;
  const answer = read();
  entries.set(key, answer);
  answer.catch(() => entries.delete(key)); // a failed read is not remembered
  return answer;
}

/** What this request memoised for `key`, without reading anything (`undefined`: nothing, or outside a request). */
export function peek<T>(key: string): Promise<T> | undefined {
  return memo.getStore()?.get(key) as Promise<T> | undefined;
}

/** Replaces the entry for `key` with a value just written. */
export function remember(key: string, value: unknown): void {
  memo.getStore()?.set(key, Promise.resolve(value));
}

/** Forgets `key` (or, without one, everything this request memoised; never what it {@link markDone}). */
export function forget(key?: string): void {
  const entries = memo.getStore();
  if (key !== undefined) entries?.delete(key);
  else if (entries) for (const k of entries.keys()) if (!k.startsWith(DONE)) entries.delete(k);
}

const DONE = 'done:';

/** Notes something this request did, with a value, for the rest of the request (outside a request: nothing). */
export function markDone(key: string, value: unknown = true): void {
  memo.getStore()?.set(`${DONE}${key}`, Promise.resolve(value));
}

/** What this request {@link markDone} under `key` (`undefined`: nothing). */
export function doneInRequest<T>(key: string): Promise<T> | undefined {
  return memo.getStore()?.get(`${DONE}${key}`) as Promise<T> | undefined;
}

/**
 * Notes that this request's own end moved the session `recordKey` from active to ended, and which ended row it
 * made (`endedFrom`: its `valid_from`, as PostgreSQL's text): only a write naming that row may open it again.
 */
export function markSessionEnded(recordKey: Buffer, endedFrom: string): void {
  markDone(`session-ended:${recordKey.toString('hex')}`, endedFrom);
}

/** The ended row this request's own end made for the session `recordKey` ({@link markSessionEnded}), if any. */
export function sessionEndedHere(recordKey: Buffer): Promise<string> | undefined {
  return doneInRequest<string>(`session-ended:${recordKey.toString('hex')}`);
}
