/**
 * Issue #14: the oidc-provider adapter writes an artefact in one round trip — its value with its expiry
 * (`SET … EX`, not `SET` then `EXPIRE`), and the grant's index lengthened in the same command (a Lua
 * script: no `TTL` read before it, no MULTI of five commands) — and the index still lives as long as the
 * grant's longest artefact; a one-time artefact (a code) is one command too (a script, not a MULTI of four),
 * and a write keeps its `consumed` mark. An interaction read twice in one request is read from Redis once.
 * Real Redis; commands counted on ioredis's sendCommand.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { redisAdapterFactory } from '../../../gateway/oidc/redis-adapter.ts';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';

let sent: string[] | undefined;
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  sent?.push(args[0].name.toLowerCase());
  return sendCommand.apply(this, args);
};

const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
test.after.always(() => redis.quit());
const Adapter = redisAdapterFactory(redis);

async function commands(work: () => Promise<unknown>): Promise<string[]> {
  sent = [];
  await work();
  const out = sent;
  sent = undefined;
  return out;
}

test.serial('an artefact of a grant is written without a read first; the index keeps the longest expiry', async (t) => {
  const codes = new Adapter('AuthorizationCode');
  const grantId = `g-${Date.now()}`;
  await codes.upsert('warm-up', { grantId: `${grantId}-warm-up` } as never, 60); // scripts loaded once per server
  const first = await commands(() => codes.upsert('c1', { grantId } as never, 60));
  t.deepEqual(first, ['evalsha', 'evalsha'], "one command for the grant's list, one for the code");
  const ttl = () => redis.ttl(`oidc:grant:${grantId}`);
  t.true((await ttl()) > 50 && (await ttl()) <= 60);
  await codes.upsert('c2', { grantId } as never, 600);
  t.true((await ttl()) > 590, 'lengthened by a longer artefact');
  await codes.upsert('c3', { grantId } as never, 30);
  t.true((await ttl()) > 590, 'never shortened');
  t.deepEqual(await redis.lrange(`oidc:grant:${grantId}`, 0, -1), [
    'oidc:AuthorizationCode:c1',
    'oidc:AuthorizationCode:c2',
    'oidc:AuthorizationCode:c3',
  ]);
  const code = () => redis.hgetall('oidc:AuthorizationCode:c3');
  t.true((await redis.ttl('oidc:AuthorizationCode:c3')) > 20, 'the code expires');
  await codes.consume('c3');
  await codes.upsert('c3', { grantId, again: true } as never, 30);
  t.like(await code(), { payload: JSON.stringify({ grantId, again: true }) });
  t.truthy((await code()).consumed, 'a write keeps the consumed mark');
});

test.serial('an interaction is written with its expiry in one command, and read once per request', async (t) => {
  const interactions = new Adapter('Interaction');
  const written = await commands(() => interactions.upsert('i1', { kind: 'Interaction' } as never, 300));
  t.false(written.includes('expire'), written.join(' '));
  t.true((await redis.ttl('oidc:Interaction:i1')) > 290);
  const reads = await commands(() =>
    runWithRequestMemo(async () => {
      t.like(await interactions.find('i1'), { kind: 'Interaction' });
      t.like(await interactions.find('i1'), { kind: 'Interaction' });
    }),
  );
  t.deepEqual(reads, ['get']);
  const outside = await commands(async () => {
    await interactions.find('i1');
    await interactions.find('i1');
  });
  t.deepEqual(outside, ['get', 'get'], 'outside a request nothing is memoised');
});

test.serial('an artefact whose lifetime has run out is kept one second, never forever', async (t) => {
  const interactions = new Adapter('Interaction');
  const codes = new Adapter('AuthorizationCode');
  for (const [expiresIn, id] of [
    [0, 'ran-out-at-the-second'],
    [-3, 'ran-out-before'],
    [Number.NaN, 'no-exp'],
  ] as const) {
    await interactions.upsert(id, { uid: id } as never, expiresIn);
    t.is(await redis.ttl(`oidc:Interaction:${id}`), 1, `${id}: expires in a second`);
    await codes.upsert(id, { grantId: `g-${id}` } as never, expiresIn);
    t.is(await redis.ttl(`oidc:AuthorizationCode:${id}`), 1, `${id}: the code expires in a second`);
  }
  const clients = new Adapter('Client');
  await clients.upsert('registered', { client_id: 'registered' } as never, undefined as never);
  t.is(await redis.ttl('oidc:Client:registered'), -1, 'a write given no expiry has none');
});
