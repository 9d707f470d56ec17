/**
 * The alarm before an IdP's metadata expires (issue #13 item 16): the monitor reports `expiring` once the
 * metadata held enters the IdP's horizon and its refreshes fail, and the gateway exposes each IdP's
 * validUntil as `gateway_idp_metadata_valid_until_seconds{idp}` (and our SP metadata's as
 * `gateway_sp_metadata_valid_until_seconds`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { MetadataMonitor, type MetadataEvent } from '../../../adapters/metadata/monitor.ts';
import { legacyKeyRule } from '../../../adapters/saml/key-strength.ts';
import { GatewayMetrics } from '../../../gateway/observability/gateway-metrics.ts';
import { newRegistry } from '../../../gateway/observability/metrics.ts';
import { nodeKey, nodeMetadataXml } from '../../helpers/saml/eidas-node.ts';

const policy = { refreshSeconds: 3600, minSeconds: 30, maxBackoffSeconds: 900 };

test('expiring is reported inside the horizon when refreshes fail, not before', async (t) => {
  const key = await nodeKey('ec-p256', 'CN=alarm');
  const dir = mkdtempSync(join(tmpdir(), 'gw-alarm-'));
  let clock = Date.parse('2030-01-01T00:00:00Z');
  const validUntil = clock + 3 * 86400_000;
  const events: MetadataEvent[] = [];
  const monitor = new MetadataMonitor({
    now: () => new Date(clock),
    random: () => 0.5,
    onEvent: (e) => events.push(e),
  });
  const file = join(dir, 'idp.xml');
  writeFileSync(
    file,
    nodeMetadataXml({
      entityId: 'https://alarm.example/md',
      ssoUrl: 'https://alarm.example/sso',
      signingCertificates: [key.certificatePem],
      validUntil: new Date(validUntil),
    }),
  );
  monitor.register({
    id: 'alarm',
    source: { file },
    trustAnchors: [],
    requireValidUntil: true,
    policy,
    keyRule: legacyKeyRule(2048),
    expiryWarningSeconds: 86400,
  });
  await monitor.refresh('alarm');
  t.false(
    events.some((e) => e.type === 'expiring'),
    'three days left, one-day horizon: no alarm',
  );

  rmSync(file); // the IdP's metadata can no longer be fetched
  clock = validUntil - 2 * 86400_000;
  await monitor.refresh('alarm');
  t.false(
    events.some((e) => e.type === 'expiring'),
    'two days left: still outside the horizon',
  );
  clock = validUntil - 6 * 3600_000;
  await monitor.refresh('alarm');
  const alarm = events.find((e) => e.type === 'expiring');
  t.like(alarm, {
    type: 'expiring',
    idp: 'alarm',
    validUntil: new Date(validUntil).toISOString(),
    remainingSeconds: 6 * 3600,
  });

  const metrics = new GatewayMetrics(newRegistry({ processMetrics: false }));
  metrics.watchIdps(() => monitor.status());
  metrics.watchSpMetadata(() => new Date(Date.parse('2030-01-08T00:00:00Z')));
  const text = await metrics.registry.metrics();
  t.true(text.includes(`gateway_idp_metadata_valid_until_seconds{idp="alarm"} ${validUntil / 1000}`), text);
  t.true(text.includes(`gateway_sp_metadata_valid_until_seconds ${Date.parse('2030-01-08T00:00:00Z') / 1000}`));
  monitor.stop();
});
