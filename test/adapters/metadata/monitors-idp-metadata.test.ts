/**
 * The metadata monitor, with an injected clock and randomness (no waiting, no timing assertions):
 * refresh honours cacheDuration and backs off with jitter on failure; a failed refresh keeps the last
 * good metadata until its validUntil, then only that IdP becomes unavailable (event raised); a new key
 * in the metadata replaces the old one at the next refresh; an aggregate source is fetched once per
 * round; disabling is visible.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { legacyKeyRule } from '../../../adapters/saml/key-strength.ts';
import { MetadataMonitor, type MetadataEvent } from '../../../adapters/metadata/monitor.ts';
import { nextDelayMs } from '../../../adapters/metadata/schedule.ts';
import { nodeKey, nodeMetadataXml, type NodeKey } from '../../helpers/saml/eidas-node.ts';

const policy = { refreshSeconds: 3600, minSeconds: 30, maxBackoffSeconds: 900 };
let keyA: NodeKey;
let keyB: NodeKey;
test.before(async () => {
  [keyA, keyB] = await Promise.all([nodeKey('ec-p256', 'CN=a'), nodeKey('ec-p256', 'CN=b')]);
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'gw-monitor-'));
  let clock = Date.parse('2030-01-01T00:00:00Z');
  const events: MetadataEvent[] = [];
  const monitor = new MetadataMonitor({
    now: () => new Date(clock),
    random: () => 0.5,
    onEvent: (e) => events.push(e),
  });
  const write = (name: string, key: NodeKey, validFor: number, cacheDuration?: string) => {
    const file = join(dir, `${name}.xml`);
    writeFileSync(
      file,
      nodeMetadataXml({
        entityId: `https://${name}.example/md`,
        ssoUrl: `https://${name}.example/sso`,
        signingCertificates: [key.certificatePem],
        validUntil: new Date(clock + validFor),
        ...(cacheDuration ? { cacheDuration } : {}),
      }),
    );
    return file;
  };
  return { monitor, events, write, dir, advance: (ms: number) => (clock += ms), now: () => clock };
}

test('cacheDuration sets the next refresh (±10 % jitter), never beyond half-way to validUntil', (t) => {
  const now = Date.now();
  t.is(
    nextDelayMs(policy, { ok: true, now, cacheDurationMs: 600_000 }, () => 0.5),
    600_000,
  );
  t.is(
    nextDelayMs(policy, { ok: true, now, cacheDurationMs: 600_000 }, () => 0),
    540_000,
  );
  t.is(
    nextDelayMs(policy, { ok: true, now, cacheDurationMs: 600_000 }, () => 1),
    660_000,
  );
  t.is(
    nextDelayMs(policy, { ok: true, now }, () => 0.5),
    3_600_000,
    'the refresh interval without cacheDuration',
  );
  t.is(
    nextDelayMs(policy, { ok: true, now, validUntil: now + 200_000 }, () => 0.5),
    100_000,
  );
  t.is(
    nextDelayMs(policy, { ok: true, now, cacheDurationMs: 1000 }, () => 0.5),
    30_000,
    'clamped to the minimum',
  );
});

test('failures back off exponentially with jitter, up to the cap', (t) => {
  const ceilings = [1, 2, 3, 4, 10].map((failures) => nextDelayMs(policy, { ok: false, failures }, () => 1));
  t.deepEqual(ceilings, [30_000, 60_000, 120_000, 240_000, 900_000]);
  t.is(
    nextDelayMs(policy, { ok: false, failures: 3 }, () => 0),
    60_000,
    'equal jitter: at least half',
  );
});

test('a failed refresh keeps the last good metadata until it expires; then only that IdP is unavailable', async (t) => {
  const { monitor, events, write, advance } = setup();
  const a = monitor.register({
    id: 'a',
    source: { file: write('a', keyA, 3_600_000, 'PT10M') },
    trustAnchors: [],
    requireValidUntil: true,
    policy,
    keyRule: legacyKeyRule(2048),
  });
  const b = monitor.register({
    id: 'b',
    source: { file: write('b', keyB, 86_400_000) },
    trustAnchors: [],
    requireValidUntil: true,
    policy,
    keyRule: legacyKeyRule(2048),
  });
  await monitor.start();
  monitor.stop();
  t.is(a.availability(), 'available');
  const statusA = monitor.status().find((s) => s.id === 'a')!;
  t.truthy(statusA.lastSuccess);
  t.is(Date.parse(statusA.nextRefresh!) - Date.parse(statusA.lastSuccess!), 600_000, 'cacheDuration PT10M honoured');

  writeFileSync(
    monitor
      .status()
      .find((s) => s.id === 'a')!
      .source.slice(5),
    '<broken',
  );
  const failed = await monitor.refresh('a');
  t.is(failed.lastError?.code, 'SAML_METADATA_INVALID');
  // the operator is told why: the parser's code and words, and the size (an empty or cut file says so at once)
  t.regex(failed.lastError?.detail ?? '', /^7 bytes: SAML_MALFORMED_XML: parser refused the document: .+$/);
  t.is(failed.consecutiveFailures, 1);
  t.is(a.availability(), 'available', 'still within validUntil: the last good metadata is used');

  advance(3_600_001);
  t.is(a.availability(), 'unavailable');
  t.is(a.current(), undefined);
  t.is(b.availability(), 'available', 'the other IdP is untouched');
  t.true(events.some((e) => e.type === 'availability' && e.idp === 'a' && e.availability === 'unavailable'));
  t.false(events.some((e) => e.type === 'availability' && e.idp === 'b' && e.availability === 'unavailable'));
});

test('a key rollover in the metadata replaces the key at the next refresh', async (t) => {
  const { monitor, events, write } = setup();
  const file = write('r', keyA, 86_400_000);
  const handle = monitor.register({
    id: 'r',
    source: { file },
    trustAnchors: [],
    requireValidUntil: false,
    policy,
    keyRule: legacyKeyRule(2048),
  });
  await monitor.refresh('r');
  const before = handle.current()!.signingCertificates;
  write('r', keyB, 86_400_000);
  await monitor.refresh('r');
  t.notDeepEqual(handle.current()!.signingCertificates, before);
  t.deepEqual(
    handle.current()!.signingCertificates.map((p) => p.trim()),
    [keyB.certificatePem.trim()],
    'only the new key is trusted',
  );
  t.true(events.some((e) => e.type === 'refreshed' && e.keysChanged));
});

test('an IdP whose metadata never loaded is unavailable; a disabled one is "disabled"', async (t) => {
  const { monitor, dir } = setup();
  const missing = monitor.register({
    id: 'm',
    source: { file: join(dir, 'nope.xml') },
    trustAnchors: [],
    requireValidUntil: false,
    policy,
    keyRule: legacyKeyRule(2048),
  });
  const status = await monitor.refresh('m');
  t.is(status.lastError?.code, 'SAML_METADATA_FETCH_FAILED');
  t.is(missing.availability(), 'unavailable');
  monitor.disable('m');
  t.is(missing.availability(), 'disabled');
  monitor.enable('m');
  t.is(missing.availability(), 'unavailable');
});
