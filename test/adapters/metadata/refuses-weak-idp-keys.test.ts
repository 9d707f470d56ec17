/**
 * Key strength per IdP kind (issue #10 item 4): eIDAS requires RSA ≥ 3072 bits and EC ≥ 256 bits on an
 * approved curve; legacy IdPs RSA ≥ 2048 by default, configurable only upwards. A key below the minimum is
 * never trusted: the metadata import names it and the rule, fails when no usable key remains
 * (SAML_METADATA_KEY_TOO_WEAK), and a message signed with it is refused with its own code (SAML_KEY_TOO_WEAK).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { MetadataMonitor, type MetadataEvent } from '../../../adapters/metadata/monitor.ts';
import {
  EIDAS_KEY_RULE,
  keyStrengthProblem,
  legacyKeyRule,
  type KeyStrengthRule,
} from '../../../adapters/saml/key-strength.ts';
import { ALGORITHMS } from '../../../hsm/algorithms.ts';
import { nodeMetadataXml } from '../../helpers/saml/eidas-node.ts';
import { freshToken } from '../../helpers/services.ts';
import { refused } from '../../helpers/saml/expect.ts';
import { createSamlTestBed, openSpKeys } from '../../helpers/saml/test-bed.ts';
import { createTestIdp } from '../../helpers/saml/test-idp.ts';

const policy = { refreshSeconds: 3600, minSeconds: 30, maxBackoffSeconds: 900 };

/** A self-signed certificate for a fresh key of the given shape (openssl, as an IdP operator would make one). */
async function certificate(kind: { rsa: number } | { curve: string }): Promise<string> {
  const key =
    'rsa' in kind ? ['-newkey', `rsa:${kind.rsa}`] : ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${kind.curve}`];
  return execFileSync(
    'openssl',
    ['req', '-x509', ...key, '-nodes', '-subj', '/CN=k', '-days', '2', '-keyout', '/dev/null', '-out', '-'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
}

async function importWith(rule: KeyStrengthRule, certificates: string[]) {
  const file = join(mkdtempSync(join(tmpdir(), 'gw-weak-')), 'md.xml');
  writeFileSync(
    file,
    nodeMetadataXml({
      entityId: 'https://idp.example/md',
      ssoUrl: 'https://idp.example/sso',
      signingCertificates: certificates,
    }),
  );
  const events: MetadataEvent[] = [];
  const monitor = new MetadataMonitor({ onEvent: (e) => events.push(e) });
  const handle = monitor.register({
    id: 'idp',
    source: { file },
    trustAnchors: [],
    requireValidUntil: false,
    policy,
    keyRule: rule,
  });
  const status = await monitor.refresh('idp');
  monitor.stop();
  return { status, handle, events };
}

test('eIDAS: metadata whose only key is RSA-2048 is refused, naming the key and the rule', async (t) => {
  const { status, handle } = await importWith(EIDAS_KEY_RULE, [await certificate({ rsa: 2048 })]);
  t.is(status.lastError?.code, 'SAML_METADATA_KEY_TOO_WEAK');
  t.regex(status.lastError?.detail ?? '', /key [0-9a-f]{16}: RSA 2048 bits < 3072 \(eIDAS\)/);
  t.is(handle.current(), undefined);
});

test('eIDAS: a weak key beside a strong one is set aside and reported; only the strong one is trusted', async (t) => {
  const weak = await certificate({ rsa: 2048 });
  const strong = await certificate({ curve: 'P-256' });
  const { handle, events } = await importWith(EIDAS_KEY_RULE, [weak, strong]);
  t.deepEqual(handle.current()!.signingCertificates, [strong]);
  t.true(events.some((e) => e.type === 'weak_keys' && e.keys.length === 1));
});

test('eIDAS: an EC key on a curve that is not approved (secp256k1) is refused', async (t) => {
  t.regex(keyStrengthProblem(await certificate({ curve: 'secp256k1' }), EIDAS_KEY_RULE) ?? '', /not approved/);
  t.is(keyStrengthProblem(await certificate({ curve: 'P-384' }), EIDAS_KEY_RULE), undefined);
  t.is(keyStrengthProblem(await certificate({ rsa: 3072 }), EIDAS_KEY_RULE), undefined);
});

test('legacy: RSA-2048 by default, configurable only upwards', async (t) => {
  const rsa2048 = await certificate({ rsa: 2048 });
  t.is(keyStrengthProblem(rsa2048, legacyKeyRule(2048)), undefined);
  t.regex(keyStrengthProblem(rsa2048, legacyKeyRule(3072)) ?? '', /RSA 2048 bits < 3072/);
  t.regex(keyStrengthProblem(await certificate({ rsa: 1024 }), legacyKeyRule(2048)) ?? '', /RSA 1024 bits < 2048/);
  t.throws(() => legacyKeyRule(1024));
});

test('a message signed with a listed but weak key is refused with its own code: SAML_KEY_TOO_WEAK', async (t) => {
  const keys = await openSpKeys(freshToken());
  t.teardown(() => keys.store.close());
  const idp = await createTestIdp(); // signs with RSA-2048
  const strong = await certificate({ rsa: 3072 });
  const file = join(mkdtempSync(join(tmpdir(), 'gw-weak-')), 'md.xml');
  writeFileSync(
    file,
    nodeMetadataXml({ entityId: idp.entityId, ssoUrl: idp.ssoUrl, signingCertificates: [idp.certificatePem, strong] }),
  );
  const monitor = new MetadataMonitor();
  const metadata = monitor.register({
    id: 'test-idp',
    source: { file },
    trustAnchors: [],
    requireValidUntil: false,
    policy,
    keyRule: legacyKeyRule(3072),
  });
  await monitor.refresh('test-idp');
  monitor.stop();
  const bed = await createSamlTestBed(keys, {}, undefined, { idp, metadata });
  t.teardown(() => bed.close());
  const { requestId } = await bed.start();
  await refused(t, bed.finish(bed.signedResponse(bed.fields(requestId))), 'SAML_KEY_TOO_WEAK');
});

test('the HSM algorithm registry only makes keys that meet the eIDAS minimum (the key CLI cannot create weaker ones)', (t) => {
  for (const row of ALGORITHMS) {
    if (!('key' in row)) continue;
    const key = row.key as { kty: string; modulusBits?: number; crv?: string };
    if (key.kty === 'RSA') t.true((key.modulusBits ?? 0) >= 3072, row.name);
    if (key.kty === 'EC') t.true(['P-256', 'P-384', 'P-521'].includes(key.crv ?? ''), row.name);
  }
});
