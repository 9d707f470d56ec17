/**
 * `ops.tls` (config/ops.ts, http/ops-server.ts): `node gateway/main.ts` as a child process serves its operations
 * listener over HTTPS with the configured certificate — `/ready`, and `/metrics` with an operator's bearer token,
 * to a client that trusts the issuing CA only — and refuses a plain-HTTP request on that port (no answer
 * comes back in clear). The real gateway with PostgreSQL, Redis and SoftHSM2; a test CA made by openssl.
 */
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDeployment, startGatewayProcess, type Deployment } from '../harness/deployment.ts';
import { RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { makePki } from '../helpers/https-document-server.ts';
import { freshDatabase, freshToken, redisUrl } from '../helpers/services.ts';

const dir = mkdtempSync(join(tmpdir(), 'gw-ops-tls-'));
let deployment: Deployment;
let gw: Awaited<ReturnType<typeof startGatewayProcess>>;
let caFile: string;

test.before(async () => {
  deployment = await prepareDeployment({
    dir,
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: `gw-ops-tls-${process.pid}:`,
    token: freshToken(),
    rpRedirectUri: RP_REDIRECT,
    logLevel: 'warn',
  });
  const pkiDir = mkdtempSync(join(tmpdir(), 'gw-ops-tls-pki-'));
  caFile = makePki(pkiDir).caFile;
  const ops = deployment.rawConfig.ops as Record<string, unknown>;
  deployment.rawConfig.ops = {
    ...ops,
    tls: { certFile: join(pkiDir, 'server.pem'), keyFile: join(pkiDir, 'server.key') },
  };
  gw = await startGatewayProcess(deployment, Number(new URL(deployment.gatewayUrl).port), join(dir, 'gateway.log'));
});
test.after.always(async () => {
  await gw?.stop();
  await deployment?.stop();
});

function getOverTls(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${gw.opsUrl}${path}`, { ca: readFileSync(caFile), headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the operations listener answers over TLS, with the certificate a client verifies', async (t) => {
  t.regex(gw.opsUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
  const ready = await getOverTls('/ready');
  t.true(ready.status === 200 || ready.status === 503, `/ready answered ${ready.status}`);
  const token = deployment.env.GW_OPERATOR_ALICE!;
  const metrics = await getOverTls('/metrics', { authorization: `Bearer ${token}` });
  t.is(metrics.status, 200);
  t.regex(metrics.body, /gateway_/);
  t.is((await getOverTls('/metrics')).status, 401, 'still an operator credential to read metrics');
});

test('a plain-HTTP request on the operations port gets no answer in clear', async (t) => {
  const port = new URL(gw.opsUrl).port;
  const outcome = await new Promise<string>((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/ready', agent: false }, (res) => {
      res.resume();
      resolve(`HTTP ${res.statusCode}`);
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.setTimeout(10_000, () => req.destroy(new Error('no answer')));
    req.end();
  });
  t.notRegex(outcome, /^HTTP/, `plain HTTP got an answer in clear: ${outcome}`);
});
