/**
 * An error Redis answered carries its command (ioredis: `err.command = { name, args }`), and pino's standard error
 * serializer writes every field of an error: a refused `AUTH` put the Redis password in the log, a refused
 * `EVALSHA` the key of an authorization code (reviewer finding, twenty-seventh round). The log keeps the
 * command's name and the error's message, never its arguments, also in an error's cause. Real Redis.
 */
import { Writable } from 'node:stream';
import test from 'ava';
import { createLogger } from '../../gateway/observability/logger.ts';
import { createRedis } from '../../gateway/store/redis.ts';
import { redisPrefix, redisUrl } from '../helpers/services.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger('info', 'test', stream) };
}

test("a Redis error's command is logged by its name, without its arguments", async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.disconnect());
  const secret = 'code-4f1c9b-SECRET';
  const refused = await t.throwsAsync(redis.evalsha('0'.repeat(40), 1, `oidc:AuthorizationCode:${secret}`));
  t.regex(
    JSON.stringify((refused as unknown as { command: unknown }).command),
    new RegExp(secret),
    'ioredis carries it',
  );
  const { lines, logger } = capture();
  logger.warn({ err: refused }, 'a store write failed');
  logger.warn({ error: new Error('wrapped', { cause: refused }) }, 'a wrapped one');
  logger.flush();
  const text = lines.join('');
  t.false(text.includes(secret), text);
  t.regex(text, /"name":"evalsha"/, 'the command is named');
  t.regex(text, /NOSCRIPT/, 'the message stays');
});
