/**
 * Issue #14 (Redis commands per login): the translation point reads a login's behavioural vector three times
 * in the request that decides it (its signals, the behaviour stage, the record of the assessment); with the
 * request memo the gateway wires in (`translation/fraud-service.ts`) Redis is asked once, and the three see
 * the same vector. Outside a request (timers, CLIs) every read goes to Redis; a vector saved in a request is
 * what that request reads next.
 * Real Redis; commands counted on ioredis's sendCommand.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import type { BehaviourVector } from '../../gateway/behaviour/features.ts';
import { BehaviourStore } from '../../gateway/behaviour/store.ts';
import { memoised, remember, runWithRequestMemo } from '../../gateway/session/request-memo.ts';
import { stores } from './fixtures.ts';

let sent: string[] | undefined;
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  sent?.push(args[0].name.toLowerCase());
  return sendCommand.apply(this, args);
};
async function commands(work: () => Promise<unknown>): Promise<string[]> {
  sent = [];
  await work();
  const out = sent;
  sent = undefined;
  return out;
}

const vector: BehaviourVector = {
  pointer: { n: 80, path: 900, straightness: 0.7, speed: 0.6, speedSd: 0.3, pauses: 2 },
  keys: { n: 0, interval: 0, intervalSd: 0, hold: 0 },
  orientation: { n: 0, betaSd: 0, gammaSd: 0 },
  dwell: 4200,
  timerMs: 0.1,
  timeZone: 'Europe/Paris',
  screen: '1920x1080',
  platform: 'Linux x86_64',
};

test.serial('a vector is read from Redis once per request, and every read of it sees the same', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const store = new BehaviourStore(s.redis, s.pool, 600, { memoised, remember });
  await new BehaviourStore(s.redis, s.pool, 600).save('login-once', vector); // another request posted it
  const reads: Array<BehaviourVector | null> = [];
  const inRequest = await commands(() =>
    runWithRequestMemo(async () => {
      for (let i = 0; i < 3; i += 1) reads.push(await store.load('login-once'));
    }),
  );
  t.deepEqual(inRequest, ['get']);
  for (const read of reads) t.deepEqual(read, vector);
  t.deepEqual(await commands(() => runWithRequestMemo(() => store.load('nobody'))), ['get']);

  const outside = await commands(async () => {
    await store.load('login-once');
    await store.load('login-once');
  });
  t.deepEqual(outside, ['get', 'get'], 'outside a request nothing is memoised');
});

test.serial('a request that saves a vector reads that vector, not an earlier absence', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const store = new BehaviourStore(s.redis, s.pool, 600, { memoised, remember });
  await runWithRequestMemo(async () => {
    t.is(await store.load('login-saved'), null);
    await store.save('login-saved', vector);
    t.deepEqual(await store.load('login-saved'), vector);
  });
  t.deepEqual(await store.load('login-saved'), vector, 'and it is in Redis');
});
