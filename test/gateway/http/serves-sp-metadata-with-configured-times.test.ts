/**
 * GET /saml/metadata serves the configured validUntil and cacheDuration (issue #13 item 13: a fixed
 * 7-day validity, never announced as a cacheDuration, left IdPs holding expired metadata), with an HTTP
 * cache lifetime no longer than the re-sign interval; the operations listener's /metrics shows when it expires (the demo IdP publishes no validUntil:
 * the per-IdP gauge is proven in test/adapters/metadata/alarms-before-metadata-expires.test.ts).
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../../harness/deployment.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';

let deployment: Deployment;
let gateway: Awaited<ReturnType<typeof startGatewayInProcess>>;
const times = { validitySeconds: 3 * 86400, cacheDurationSeconds: 4 * 3600, expiryWarningSeconds: 86400 };

test.before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-spmd-'));
  deployment = await prepareDeployment({
    dir,
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    rpRedirectUri: 'http://127.0.0.1:9/callback',
    logLevel: 'silent',
  });
  (deployment.rawConfig as { saml: Record<string, unknown> }).saml.spMetadata = times;
  gateway = await startGatewayInProcess(deployment);
});
test.after.always(async () => {
  await gateway?.stop().catch(() => undefined);
  await deployment?.stop();
});

test('the served SP metadata carries the configured validUntil and cacheDuration', async (t) => {
  const before = Date.now();
  const answer = await fetch(`${gateway.url}/saml/metadata`);
  t.is(answer.status, 200);
  t.is(answer.headers.get('cache-control'), 'public, max-age=300');
  const xml = await answer.text();
  t.true(xml.includes(`cacheDuration="PT${times.cacheDurationSeconds}S"`));
  const validUntil = Date.parse(/validUntil="([^"]+)"/.exec(xml)![1]!);
  t.true(
    validUntil >= before + times.validitySeconds * 1000 - 300_000 &&
      validUntil <= Date.now() + times.validitySeconds * 1000,
    new Date(validUntil).toISOString(),
  );
  const metrics = await (
    await fetch(`${gateway.opsUrl}/metrics`, {
      headers: { authorization: `Bearer ${deployment.operatorTokens.alice}` },
    })
  ).text();
  t.regex(metrics, new RegExp(`^gateway_sp_metadata_valid_until_seconds ${Math.floor(validUntil / 1000)}$`, 'm'));
});
