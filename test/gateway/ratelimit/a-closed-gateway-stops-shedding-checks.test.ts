/**
 * A closed gateway stops its load shedder's periodic check. The check was started with the public app and never
 * stopped: after `close()` it went on sampling and, at each change of level, audited through the closed audit log
 * ("audit of a load-shedding change failed", EBADF on the spool), in every process that closes a gateway and goes
 * on (tests, a worker restarted in place). Thresholds here make every check a deepening, so a check still running
 * after `close()` is seen in the log.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import pino from 'pino';
import { prepareDeployment, startGatewayInProcess } from '../../harness/deployment.ts';
import { eventuallyOrThrow } from '../../helpers/eventually.ts';
import { RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';

const CHECK_MS = 10;

test('after close() the load shedder checks no more and audits nothing', async (t) => {
  const deployment = await prepareDeployment({
    dir: mkdtempSync(join(tmpdir(), 'gw-shed-close-')),
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    rpRedirectUri: RP_REDIRECT,
    logLevel: 'info',
  });
  t.teardown(() => deployment.stop());
  deployment.rawConfig.rateLimit = {
    ...(deployment.rawConfig.rateLimit as object),
    // any lag is over the threshold, and thousands of levels lie between the first and the floor
    adaptive: { checkIntervalMs: CHECK_MS, eventLoopLagMs: 1, factor: 0.999, minFactor: 0.001 },
  };
  const lines: { msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n'))
        if (text.trim()) lines.push(JSON.parse(text) as { msg: string });
      done();
    },
  });
  const running = await startGatewayInProcess(deployment, undefined, { logger: pino({ level: 'info' }, sink) });
  const shedding = () => lines.filter((l) => l.msg.startsWith('load shedding') || l.msg.includes('load-shedding'));
  await eventuallyOrThrow(() => shedding().length >= 3, 'the running gateway deepens its shedding at each check');

  await running.stop();
  const atClose = shedding().length;
  await new Promise((resolve) => setTimeout(resolve, 30 * CHECK_MS));
  t.deepEqual(shedding().slice(atClose), [], 'no check after close()');
});
