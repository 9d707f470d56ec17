/**
 * PostgreSQL over TLS, the operator's trust in the database URL (`?sslmode=verify-full&sslrootcert=<CA file>`, read
 * by node-postgres): a real PostgreSQL with `ssl=on` and a certificate of a test CA. A whole login runs with every
 * connection of the gateway's encrypted (`pg_stat_ssl`); with a CA that did not issue the server's certificate, or a
 * certificate that does not name the address the URL gives, the gateway does not boot.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import pg from 'pg';
import { prepareDeployment, startGatewayInProcess } from '../harness/deployment.ts';
import { createDatabase, type PostgresHandle } from '../harness/services/postgres.ts';
import { startPostgresWithTls } from '../harness/services/postgres-tls.ts';
import { discoverRp, logInAndRedeem, RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { makeDnsServerCertificate, makePki } from '../helpers/https-document-server.ts';
import { freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';

const pkiDir = mkdtempSync(join(tmpdir(), 'gw-pg-tls-pki-'));
const pki = makePki(pkiDir);
const serverFiles = { certFile: join(pkiDir, 'server.pem'), keyFile: join(pkiDir, 'server.key') };
// another CA, which issued nothing the server holds
const strangerCa = makePki(mkdtempSync(join(tmpdir(), 'gw-pg-tls-stranger-'))).caFile;
// every gateway's SoftHSM2 token made before any is opened (a later one is not seen by this process)
const tokens = Array.from({ length: 4 }, () => freshToken());

let server: PostgresHandle;
let named: PostgresHandle;

test.before(async () => {
  server = await startPostgresWithTls(mkdtempSync(join(tmpdir(), 'gw-pg-tls-')), serverFiles);
  // a certificate naming only a DNS name, not the address the URL gives
  named = await startPostgresWithTls(
    mkdtempSync(join(tmpdir(), 'gw-pg-tls-dns-')),
    makeDnsServerCertificate(pkiDir, 'db.internal.test'),
  );
});

test.after.always(async () => {
  await server?.stop();
  await named?.stop();
});

let databases = 0;

/** A fresh database on `on`, and its URL over TLS trusting `ca`. */
async function tlsDatabase(on: PostgresHandle, ca: string): Promise<string> {
  databases += 1;
  const plain = await createDatabase(on.url, `gw_tls_${process.pid}_${databases}`);
  const url = new URL(plain);
  url.searchParams.set('sslmode', 'verify-full');
  url.searchParams.set('sslrootcert', ca);
  return url.href;
}

/** A gateway whose `database.url` is `url`, started (or failing to). */
async function gatewayOn(t: ExecutionContext, url: string) {
  const deployment = await prepareDeployment({
    dir: mkdtempSync(join(tmpdir(), 'gw-pg-tls-gw-')),
    pgUrl: url,
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: tokens.shift()!,
    rpRedirectUri: RP_REDIRECT,
    logLevel: process.env.GW_TEST_LOG_LEVEL ?? 'silent',
  });
  t.teardown(() => deployment.stop());
  const running = await startGatewayInProcess(deployment);
  t.teardown(() => running.stop());
  return { running, deployment };
}

test.serial('a whole login on PostgreSQL over TLS, trusting the CA given: every connection encrypted', async (t) => {
  const url = await tlsDatabase(server, pki.caFile);
  const gateway = await gatewayOn(t, url);
  const tokens = await logInAndRedeem(await discoverRp(gateway.running.url, gateway.deployment));
  t.truthy(tokens.access_token);
  // looked into over the plain port: the gateway's connections to its database, and whether each is encrypted
  const look = new pg.Client({ connectionString: server.url });
  await look.connect();
  t.teardown(() => look.end());
  const { rows } = await look.query<{ ssl: boolean }>(
    `SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid
      WHERE a.datname = $1 AND a.backend_type = 'client backend' AND a.application_name LIKE 'gateway%'`,
    [new URL(url).pathname.slice(1)],
  );
  t.true(rows.length > 0, 'the gateway holds connections to its database');
  t.true(
    rows.every((r) => r.ssl),
    `encrypted: ${rows.map((r) => r.ssl).join(', ')}`,
  );
});

test.serial('with a CA that did not issue the server certificate the gateway does not boot', async (t) => {
  const url = await tlsDatabase(server, strangerCa);
  await t.throwsAsync(gatewayOn(t, url), { message: /unable to verify|local issuer|self[- ]signed/i });
});

test.serial('a certificate that does not name the address the URL gives: the gateway does not boot', async (t) => {
  const url = await tlsDatabase(named, pki.caFile);
  await t.throwsAsync(gatewayOn(t, url), { message: /does not match certificate's altnames/i });
});
