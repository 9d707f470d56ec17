/**
 * Metadata downloads and refreshes cannot be abused (issue #10 item 15):
 * - the body is streamed and the download stops at the byte limit, whether the server announces a
 *   Content-Length or not (chunked): SAML_METADATA_FETCH_FAILED, nothing more buffered;
 * - a signed document held before and since replaced (an older issue replayed, which would bring back
 *   rolled-over keys) is refused: SAML_METADATA_ROLLBACK, and the held copy stays; a new issue with a
 *   shorter validity is still accepted (an IdP may shorten it);
 * - the replayed issue is known by what its signature covers: a byte changed outside it (a newline, another XML
 *   declaration) is the same issue (attacker review, twenty-ninth round: a raw-byte digest let it through);
 * - an instance started after the rollover (or restarted) refuses the old issue too: the replaced issues are
 *   remembered in the shared state (real Redis);
 * - a document of another entity, signed by the same anchor (a federation's signer signs every member's), is no new
 *   issue of this IdP's: SAML_METADATA_ENTITY_CHANGED, the held copy stays (attacker review, thirty-ninth round: the
 *   IdP's host served another entity's document, and this entry took its entityID and keys, with its own LoA).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { legacyKeyRule } from '../../../adapters/saml/key-strength.ts';
import { AdapterError } from '../../../adapters/contract.ts';
import { MetadataMonitor, type SupersededIssues } from '../../../adapters/metadata/monitor.ts';
import { supersededIn } from '../../../adapters/metadata/superseded-issues.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';
import { fetchMetadata } from '../../../adapters/metadata/source.ts';
import { nodeKey, nodeMetadataXml, PSS_SHA256, signAsNode, type NodeKey } from '../../helpers/saml/eidas-node.ts';
import { samlId } from '../../helpers/saml/response-builder.ts';

let anchor: NodeKey;
let keyA: NodeKey;
let keyB: NodeKey;
test.before(async () => {
  [anchor, keyA, keyB] = await Promise.all([
    nodeKey('rsa', 'CN=anchor'),
    nodeKey('ec-p256', 'CN=a'),
    nodeKey('ec-p256', 'CN=b'),
  ]);
});

test('a chunked body past the limit is refused while streaming: SAML_METADATA_FETCH_FAILED', async (t) => {
  let sent = 0;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/xml' }); // no Content-Length: chunked
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (sent < 64 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/md`;
  const error = await t.throwsAsync(fetchMetadata({ url }, 1024 * 1024), { instanceOf: AdapterError });
  t.is(error?.code, 'SAML_METADATA_FETCH_FAILED');
  t.regex(error?.detail ?? '', /download stopped/);
  t.true(sent < 64 * 1024 * 1024, 'the server was not read to the end');
});

test('an announced Content-Length past the limit is refused before reading', async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(32 * 1024 * 1024) });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/md`;
  const error = await t.throwsAsync(fetchMetadata({ url }), { instanceOf: AdapterError });
  t.is(error?.code, 'SAML_METADATA_FETCH_FAILED');
});

/** A signed-metadata publisher writing to one file, and a monitor reading it (clock fixed). */
function publisher(superseded?: SupersededIssues) {
  const file = join(mkdtempSync(join(tmpdir(), 'gw-rollback-')), 'md.xml');
  const now = Date.parse('2030-01-01T00:00:00Z');
  const issue = (key: NodeKey, validFor: number, entityId = 'https://node.example/md') => {
    const id = samlId();
    const xml = nodeMetadataXml({
      entityId,
      ssoUrl: 'https://node.example/sso',
      signingCertificates: [key.certificatePem],
      validUntil: new Date(now + validFor),
      id,
    });
    const signed = signAsNode(xml, { id, key: anchor, method: PSS_SHA256, first: true });
    writeFileSync(file, signed);
    return signed;
  };
  const instance = () => {
    const monitor = new MetadataMonitor({
      now: () => new Date(now),
      random: () => 0.5,
      ...(superseded ? { superseded } : {}),
    });
    const handle = monitor.register({
      id: 'node',
      source: { file },
      trustAnchors: [anchor.certificatePem],
      requireValidUntil: true,
      policy: { refreshSeconds: 3600, minSeconds: 30, maxBackoffSeconds: 900 },
      keyRule: legacyKeyRule(2048),
    });
    return { monitor, handle };
  };
  return { file, issue, instance, ...instance() };
}

test('signed metadata older than the held copy is refused: SAML_METADATA_ROLLBACK, the held keys stay', async (t) => {
  const { file, issue, monitor, handle } = publisher();
  const old = issue(keyA, 7 * 86_400_000); // the older issue: key A
  await monitor.refresh('node');
  issue(keyB, 7 * 86_400_000); // the rollover: key B
  await monitor.refresh('node');
  t.deepEqual(
    handle.current()!.signingCertificates.map((p) => p.trim()),
    [keyB.certificatePem.trim()],
  );
  writeFileSync(file, old); // the old issue replayed, byte for byte
  const status = await monitor.refresh('node');
  monitor.stop();
  t.is(status.lastError?.code, 'SAML_METADATA_ROLLBACK');
  t.deepEqual(
    handle.current()!.signingCertificates.map((p) => p.trim()),
    [keyB.certificatePem.trim()],
    'the rolled-over key is not resurrected',
  );
});

test('a new signed issue with a shorter validity than the held copy is accepted (not a replay)', async (t) => {
  const { issue: write, monitor, handle } = publisher();
  write(keyA, 7 * 86_400_000);
  await monitor.refresh('node');
  write(keyB, 86_400_000);
  const status = await monitor.refresh('node');
  monitor.stop();
  t.is(status.lastError, undefined);
  t.deepEqual(
    handle.current()!.signingCertificates.map((p) => p.trim()),
    [keyB.certificatePem.trim()],
  );
});

for (const [shape, replay] of [
  ['with a newline added', (xml: string) => `${xml}\n`],
  [
    'with another XML declaration',
    (xml: string) => `<?xml version="1.0" encoding="UTF-8"?>\n${xml.replace(/^<\?xml[^>]*\?>\s*/, '')}`,
  ],
] as const) {
  test(`the old issue replayed ${shape} is the same issue: SAML_METADATA_ROLLBACK`, async (t) => {
    const { file, issue, monitor, handle } = publisher();
    const old = issue(keyA, 7 * 86_400_000);
    await monitor.refresh('node');
    issue(keyB, 7 * 86_400_000);
    await monitor.refresh('node');
    writeFileSync(file, replay(old));
    const status = await monitor.refresh('node');
    monitor.stop();
    t.is(status.lastError?.code, 'SAML_METADATA_ROLLBACK');
    t.deepEqual(
      handle.current()!.signingCertificates.map((p) => p.trim()),
      [keyB.certificatePem.trim()],
    );
  });
}

test('an instance started after the rollover refuses the old issue too (replaced issues kept in Redis)', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const { file, issue, monitor, instance } = publisher(supersededIn(new RedisStateStore(redis)));
  const old = issue(keyA, 7 * 86_400_000);
  await monitor.refresh('node');
  issue(keyB, 7 * 86_400_000);
  await monitor.refresh('node');
  monitor.stop();
  // another instance (or this one restarted) is served the old issue at its first refresh
  writeFileSync(file, old);
  const later = instance();
  const status = await later.monitor.refresh('node');
  later.monitor.stop();
  t.is(status.lastError?.code, 'SAML_METADATA_ROLLBACK');
  t.is(later.handle.current(), undefined, 'it trusts no key of the old issue');
});

test("another entity's document signed by the same anchor is refused: SAML_METADATA_ENTITY_CHANGED, the held copy stays", async (t) => {
  const { issue, monitor, handle } = publisher();
  issue(keyA, 7 * 86_400_000);
  await monitor.refresh('node');
  issue(keyB, 7 * 86_400_000, 'https://other-node.example/md'); // genuine, signed by the same federation anchor
  const status = await monitor.refresh('node');
  monitor.stop();
  t.is(status.lastError?.code, 'SAML_METADATA_ENTITY_CHANGED');
  t.is(handle.current()!.entityId, 'https://node.example/md');
  t.deepEqual(
    handle.current()!.signingCertificates.map((p) => p.trim()),
    [keyA.certificatePem.trim()],
    "the other entity's keys are not taken",
  );
});
