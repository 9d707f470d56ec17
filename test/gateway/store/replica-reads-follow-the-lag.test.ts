/**
 * A real PostgreSQL streaming replica (pg_basebackup -R) behind its own primary, and real lag (WAL replay
 * paused on the replica): the reads that may lag (the review queue listing) go to the replica while it
 * keeps up, to the primary as soon as the heartbeat shows it more than `maxMs` behind, and back only
 * after the lag stayed under `recoverMs` for `recoverSeconds`. The lag and the route are gauges; each
 * change of route is logged.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chmodSync } from 'node:fs';
import test from 'ava';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { replicaWatch } from '../../../gateway/observability/replica-watch.ts';
import { ReviewStore } from '../../../gateway/review/review-store.ts';
import { migrate } from '../../../gateway/store/migrate.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { ReplicaRouter } from '../../../gateway/store/replica-router.ts';
import { freePort, waitFor } from '../../harness/services/free-port.ts';
import { startPostgresReplica } from '../../harness/services/postgres-replica.ts';
import { createDatabase, startPostgresOnFreePort } from '../../harness/services/postgres.ts';
import { freshDatabase, redisPrefix, redisUrl } from '../../helpers/services.ts';

const LAG = { heartbeatMs: 50, maxMs: 300, recoverMs: 100, recoverSeconds: 1 };

function gauge(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  const value = line?.split(' ')[1];
  return value === '+Inf' ? Number.POSITIVE_INFINITY : Number(value);
}

test('reads that may lag follow the replica lag: replica, primary above 1 s, back after a quiet period', async (t) => {
  t.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'gw-replica-'));
  chmodSync(dir, 0o711);
  const primaryServer = await startPostgresOnFreePort(join(dir, 'primary'));
  t.teardown(() => primaryServer.stop());
  const url = await createDatabase(primaryServer.url, 'gw');
  const primary = createPool(url);
  await migrate(primary);
  const replicaServer = await startPostgresReplica(join(dir, 'replica'), primaryServer.port);
  const replica = createPool(replicaServer.urlOf('gw'));
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(async () => {
    redis.disconnect();
    await replica.end();
    await primary.end();
    await replicaServer.stop();
  });

  const logs: Array<Record<string, unknown>> = [];
  const registry = new Registry();
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const router = new ReplicaRouter(primary, replica, LAG, 'test-instance', replicaWatch(registry, logger));
  const reviews = new ReviewStore(primary, new AuditLog(primary), router);
  const tickUntil = async (what: string, done: () => boolean) =>
    waitFor(
      async () => {
        await router.tick();
        return done();
      },
      what,
      60_000,
    );
  const enqueue = (loginId: string) =>
    primary.query(
      `insert into review_queue (login_id, client_id, idp, account_id, score, reasons, deadline, level)
       values ($1, 'rp', 'idp', 'acct', 0.9, '[]'::jsonb, now() + interval '15 minutes', 2)`,
      [loginId],
    );

  t.is(router.route, 'primary', 'a process starts on the primary and earns the replica');
  await tickUntil('the replica to be trusted', () => router.route === 'replica');
  t.is(router.pool(), replica);
  t.is(gauge(await registry.metrics(), 'gateway_db_lagging_reads_on_replica'), 1);

  // real lag: WAL replay held on the replica; a review queued on the primary is not there yet
  await replicaServer.pauseReplay();
  await enqueue('login-during-lag');
  t.false(
    (await reviews.pending()).some((r) => r.loginId === 'login-during-lag'),
    'the listing read the replica (no heartbeat has measured the lag yet)',
  );
  await tickUntil('the lag to be seen', () => router.route === 'primary');
  t.true(router.lagMs > LAG.maxMs);
  t.true(gauge(await registry.metrics(), 'gateway_db_replica_lag_seconds') > LAG.maxMs / 1000);
  t.is(gauge(await registry.metrics(), 'gateway_db_lagging_reads_on_replica'), 0);
  t.true(
    (await reviews.pending()).some((r) => r.loginId === 'login-during-lag'),
    'with the replica behind, the listing reads the primary',
  );
  t.true(logs.some((l) => l.msg === 'replica reads moved to the primary' && Number(l.lag_ms) > LAG.maxMs));

  // replay resumed: the lag falls at once, but the reads stay on the primary for recoverSeconds
  await replicaServer.resumeReplay();
  await tickUntil('the replica to catch up', () => router.lagMs < LAG.recoverMs);
  t.is(router.route, 'primary', 'not back on the first good heartbeat');
  await tickUntil('the quiet period', () => router.route === 'replica');
  t.true(
    (await reviews.pending()).some((r) => r.loginId === 'login-during-lag'),
    'the replica has it now',
  );
  t.true(logs.some((l) => l.msg === 'replica reads back on the replica'));
});

test('a replica that does not answer counts as infinitely behind: the reads stay on the primary', async (t) => {
  const primary = createPool(await freshDatabase());
  const replica = createPool(`postgres://gateway@127.0.0.1:${await freePort()}/gw`, { connectionTimeoutMs: 500 });
  t.teardown(async () => {
    await primary.end();
    await replica.end();
  });
  const registry = new Registry();
  const router = new ReplicaRouter(
    primary,
    replica,
    { ...LAG, recoverSeconds: 0 },
    'x',
    replicaWatch(registry, pino({ level: 'silent' })),
  );
  await router.tick();
  t.is(router.lagMs, Number.POSITIVE_INFINITY);
  t.is(router.route, 'primary');
  t.is(router.pool(), primary);
  t.is(gauge(await registry.metrics(), 'gateway_db_replica_lag_seconds'), Number.POSITIVE_INFINITY);
});
