/**
 * After a PostgreSQL restart the key lifecycle's polls (every `keyPollMs`) fail until it is back. That is one
 * outage, logged once: one warn with the retry interval when it begins, one info when a reload works again —
 * not an error line per poll (it was one `HSM_RECORDS_FAILED` error every 500 ms). Only an outage that outlasts
 * `keyReloadEscalateMs` (the retries exhausted: the key set may be stale) is logged as an error, once.
 * A PostgreSQL server of this test's own is stopped and started again; the gateway's log lines are read.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import pino from 'pino';
import { prepareDeployment, startGatewayInProcess } from '../../harness/deployment.ts';
import { freePort } from '../../harness/services/free-port.ts';
import { startPostgres, type PostgresHandle } from '../../harness/services/postgres.ts';
import { migratedDatabase } from '../../harness/services/template-database.ts';
import { RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';

interface Line {
  level: number;
  msg: string;
}

async function until(check: () => boolean, what: string, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i += 1) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const ESCALATE_MS = 6_000;
const POLL_MS = 100;

test('a PostgreSQL outage is one warn (and one error only past the escalation), not an error per poll', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-keys-outage-'));
  const pgDir = mkdtempSync(join(tmpdir(), 'gw-keys-outage-db-')); // its own: this test stops it
  let server: PostgresHandle = await startPostgres(pgDir, await freePort());
  t.teardown(() => server.stop().catch(() => undefined));
  const pgUrl = await migratedDatabase(server.url);
  const deployment = await prepareDeployment({
    dir,
    pgUrl,
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    rpRedirectUri: RP_REDIRECT,
    logLevel: 'info',
  });
  t.teardown(() => deployment.stop());
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text.trim()) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  const running = await startGatewayInProcess(deployment, undefined, {
    logger: pino({ level: 'info' }, sink),
    keyPollMs: POLL_MS,
    keyReloadEscalateMs: ESCALATE_MS,
  });
  t.teardown(() => running.stop());
  const keyLines = () => lines.filter((l) => l.msg.startsWith('key lifecycle:'));
  const at = (level: number) => keyLines().filter((l) => l.level === level);

  // a restart: shorter than the escalation
  const before = keyLines().length;
  await server.stop();
  await until(() => at(40).length >= 1, 'the outage warning');
  await new Promise((r) => setTimeout(r, 10 * POLL_MS)); // ten more polls fail
  server = await startPostgres(pgDir, server.port);
  await until(() => keyLines().some((l) => l.msg.includes('works again')), 'the recovery line');
  const restart = keyLines().slice(before);
  t.deepEqual(
    restart.map((l) => l.level),
    [40, 30],
    `one warn, then one info: ${JSON.stringify(restart)}`,
  );

  // an outage past the escalation: one warn, one error, then the recovery
  const second = keyLines().length;
  await server.stop();
  await until(() => at(50).length >= 1, 'the escalation', 300);
  await new Promise((r) => setTimeout(r, 10 * POLL_MS)); // more polls fail after it
  server = await startPostgres(pgDir, server.port);
  await until(
    () =>
      keyLines()
        .slice(second)
        .some((l) => l.msg.includes('works again')),
    'the recovery line',
  );
  const long = keyLines().slice(second);
  t.deepEqual(
    long.map((l) => l.level),
    [40, 50, 30],
    `one warn, one error, one info: ${JSON.stringify(long)}`,
  );
});
