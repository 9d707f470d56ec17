/**
 * `workers: 2` (issue #14 item 4): `node gateway/main.ts` as a child process is a cluster primary with two
 * workers on one public port and one operations port, sharing PostgreSQL, Redis and the SoftHSM2 token.
 *
 * - logins complete through it (each worker opened its own PKCS#11 sessions on the same token);
 * - /metrics, whichever worker answers the scrape, counts the requests of both workers: 16 fresh
 *   connections (round-robin across the workers) to the discovery route are all counted;
 * - a worker killed with SIGKILL is replaced by the primary, and logins continue;
 * - a worker that starts after the configuration file changed refuses to serve it and is not replaced; with none
 *   left, the gateway exits 78 (last: it ends the cluster).
 */
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as oidc from 'openid-client';
import { prepareDeployment, startGatewayProcess, type Deployment } from '../harness/deployment.ts';
import { RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { freshDatabase, freshToken, redisUrl } from '../helpers/services.ts';
import { logIn } from '../gateway/session/session-bed.ts';

const dir = mkdtempSync(join(tmpdir(), 'gw-workers-'));
let deployment: Deployment;
let gw: Awaited<ReturnType<typeof startGatewayProcess>>;
let bed: { url: string; deployment: Deployment; rp: oidc.Configuration };

test.before(async () => {
  deployment = await prepareDeployment({
    dir,
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: `gw-workers-${process.pid}:`,
    token: freshToken(),
    rpRedirectUri: RP_REDIRECT,
    logLevel: 'warn',
  });
  gw = await startGatewayProcess(deployment, Number(new URL(deployment.gatewayUrl).port), join(dir, 'gateway.log'), {
    workers: 2,
  });
  const rp = await oidc.discovery(
    new URL(gw.url),
    deployment.client.client_id,
    deployment.client.client_secret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  bed = { url: gw.url, deployment, rp };
});
test.after.always(async () => {
  await gw?.stop();
  await deployment?.stop();
});

/** The pids of the primary's children (its workers). */
const workersOf = (pid: number): number[] =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);

/** GET on a fresh connection (no keep-alive), so the cluster hands each to the next worker. */
const freshGet = (url: string) =>
  new Promise<number>((resolve, reject) => {
    request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });

const discoveryCount = (exposition: string) =>
  exposition
    .split('\n')
    .filter(
      (line) =>
        line.startsWith('gateway_http_requests_total{') &&
        line.includes('route="/.well-known/openid-configuration"') &&
        line.includes('status="200"'),
    )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);

const scrape = async () => {
  const res = await fetch(`${gw.opsUrl}/metrics`, {
    headers: { authorization: `Bearer ${deployment.operatorTokens.alice}` },
  });
  if (res.status !== 200) throw new Error(`metrics: ${res.status} ${await res.text()}`);
  return res.text();
};

test.serial('two workers serve logins on one port', async (t) => {
  const primary = gw.child.pid!;
  t.is(workersOf(primary).length, 2);
  const first = await logIn(bed);
  t.truthy(first.accessToken);
  const second = await logIn(bed);
  t.truthy(second.accessToken);
});

test.serial('/metrics aggregates the counters of both workers', async (t) => {
  const before = discoveryCount(await scrape());
  for (let i = 0; i < 16; i += 1) t.is(await freshGet(`${gw.url}/.well-known/openid-configuration`), 200);
  // whichever worker answers, it reports the sum of both (one worker alone saw about half of the 16)
  t.is(discoveryCount(await scrape()) - before, 16);
  t.is(discoveryCount(await scrape()) - before, 16);
});

test.serial('a killed worker is replaced and logins continue', async (t) => {
  const primary = gw.child.pid!;
  const [victim, survivor] = workersOf(primary);
  process.kill(victim!, 'SIGKILL');
  let now = workersOf(primary);
  for (let i = 0; i < 300 && !(now.length === 2 && !now.includes(victim!)); i += 1) {
    await sleep(100);
    now = workersOf(primary);
  }
  t.is(now.length, 2);
  t.false(now.includes(victim!));
  t.true(now.includes(survivor!));
  // the replacement boots (PostgreSQL, Redis, its own HSM sessions) while the survivor serves
  const login = await logIn(bed);
  t.truthy(login.accessToken);
  // wait until the replacement answers too: fresh connections reach both workers, all succeed
  for (let i = 0; i < 8; i += 1) t.is(await freshGet(`${gw.url}/.well-known/openid-configuration`), 200);
  const again = await logIn(bed);
  t.truthy(again.accessToken);
  t.true(readFileSync(join(dir, 'gateway.log'), 'utf8').includes('worker died: restarting it'));
});

test.serial(
  'workers restarted after the configuration changed refuse to serve it; with none left the gateway exits 78',
  async (t) => {
    const primary = gw.child.pid!;
    const exited = new Promise<number | null>((resolve) => gw.child.once('exit', (code) => resolve(code)));
    const file = deployment.configFile.replace(/\.json$/, `.${new URL(gw.url).port}.json`);
    const before = readFileSync(file, 'utf8');
    // an edit of the live file (a rotated secret would do the same): a worker started now would serve beside its
    // siblings with another configuration than theirs
    const edited = JSON.parse(before) as { ttl?: Record<string, number> };
    edited.ttl = { ...edited.ttl, accessToken: 120 };
    writeFileSync(file, JSON.stringify(edited, null, 2));
    t.teardown(() => writeFileSync(file, before));
    for (const worker of workersOf(primary)) process.kill(worker, 'SIGKILL');
    // each replacement reads the new file, refuses to serve it and is not replaced; with none left, the primary stops
    t.is(await exited, 78);
    const log = readFileSync(join(dir, 'gateway.log'), 'utf8');
    t.regex(log, /the configuration \(its file or a secret it names\) changed since the cluster started/);
    t.regex(log, /a worker read a configuration other than the one the cluster started with: not restarted/);
    t.regex(log, /no worker left to serve the configuration the cluster started with: stopping/);
  },
);
