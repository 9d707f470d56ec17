/**
 * The gateway's database role apart from the tables' owner (`node gateway/store/migrate.ts --grant-runtime <role>`,
 * store/runtime-role.ts, migration 0910): the gateway runs a whole login with it, and it cannot change the audit
 * trail — no DELETE or UPDATE of a record, no trigger disabled (it does not own the table), no chain head set back,
 * no checkpoint truncated. The chain head only moves forward, whoever asks: set back, every later insert collided on
 * its seq and the whole fleet spooled. A gateway running as the owner or a superuser is warned about at boot
 * (`AUDIT_LOG_OWNED_BY_GATEWAY`). Real PostgreSQL, Redis and SoftHSM2.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { auditTrailWritableBy } from '../../../gateway/store/runtime-role.ts';
import { prepareDeployment, startGatewayInProcess } from '../../harness/deployment.ts';
import { authorizationRequest, discoverRp, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';

const run = promisify(execFile);
const token = freshToken();

test.serial('a runtime role runs a login and cannot change the audit trail; the owner is warned about', async (t) => {
  const ownerUrl = await freshDatabase();
  const owner = createPool(ownerUrl);
  t.teardown(() => owner.end());
  const role = `gw_runtime_${randomBytes(4).toString('hex')}`;
  await owner.query(`create role ${role} login password 'runtime-password'`);
  const granted = await run(process.execPath, ['gateway/store/migrate.ts', '--grant-runtime', role], {
    env: { ...process.env, GW_DATABASE_URL: ownerUrl },
  });
  t.regex(granted.stdout, new RegExp(`${role} granted what the gateway needs`));
  const runtimeUrl = new URL(ownerUrl);
  runtimeUrl.username = role;
  runtimeUrl.password = 'runtime-password';
  const runtime = createPool(runtimeUrl.toString());
  t.teardown(() => runtime.end());
  t.regex((await auditTrailWritableBy(owner)) ?? '', /superuser|owner/, 'the owner could rewrite it');
  t.is(await auditTrailWritableBy(runtime), undefined, 'the runtime role could not');

  // it appends: the chain moves on (its trigger runs as the owner)
  const head = async () => Number((await owner.query('select seq from audit_chain_head')).rows[0].seq);
  const before = await head();
  await new AuditLog(runtime).append({ sessionId: 'rt-1', from: null, to: 'INITIATED', component: 'test' });
  t.is(await head(), before + 1);
  // and changes nothing of what is written
  for (const sql of [
    "delete from audit_log where session_id = 'rt-1'",
    "update audit_log set to_state = 'COMPLETED' where session_id = 'rt-1'",
    'alter table audit_log disable trigger user',
    'update audit_chain_head set seq = seq - 1',
    'truncate audit_checkpoints',
    'truncate audit_log',
  ])
    await t.throwsAsync(runtime.query(sql), { message: /permission denied|must be owner/ }, sql);
  // a temporary table of the runtime role's named as the head is never the one the chain (run as the owner) moves
  const client = await runtime.connect();
  try {
    await client.query('create temporary table audit_chain_head (id boolean, seq bigint, hash bytea)');
    await client.query("insert into audit_chain_head values (true, 999999, '\\x00')");
    const beforeTemp = await head();
    await client.query(
      "insert into audit_log (session_id, to_state, component, record_id, digest) values ('rt-2', 'INITIATED', 'test', gen_random_uuid(), sha256('rt-2'))",
    );
    t.is(await head(), beforeTemp + 1, 'the real head moved');
    t.is(Number((await client.query('select seq from pg_temp.audit_chain_head')).rows[0].seq), 999999);
  } finally {
    client.release(true);
  }
  // another role of the database (monitoring, reporting) cannot run the partition upkeep as the owner
  const other = `gw_other_${randomBytes(4).toString('hex')}`;
  await owner.query(`create role ${other} login password 'other-password'`);
  const otherUrl = new URL(ownerUrl);
  otherUrl.username = other;
  otherUrl.password = 'other-password';
  const stranger = createPool(otherUrl.toString());
  t.teardown(() => stranger.end());
  await t.throwsAsync(
    stranger.query("select session_records_maintain(now() + interval '100 years', interval '0', interval '0')"),
    { message: /permission denied/ },
  );
  // the head only moves forward, even for the owner (short of switching triggers off)
  await t.throwsAsync(owner.query('update audit_chain_head set seq = seq - 1'), {
    message: /moves one record forward/,
  });

  // a whole login, and the session store's upkeep, with the runtime role
  const deployment = await prepareDeployment({
    dir: mkdtempSync(join(tmpdir(), 'gw-runtime-role-')),
    pgUrl: runtimeUrl.toString(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token,
    rpRedirectUri: RP_REDIRECT,
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
  });
  t.teardown(() => deployment.stop());
  const running = await startGatewayInProcess(deployment);
  t.teardown(() => running.stop());
  const rp = await discoverRp(running.url, deployment);
  const request = await authorizationRequest(rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.truthy(journey.url.searchParams.get('code'), `a login as the runtime role: ${journey.url}`);
  await t.notThrowsAsync(running.gateway.services.sessions.maintain(), 'the partitions kept (as their owner)');
});
