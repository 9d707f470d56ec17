/**
 * An eIDAS node's metadata is held to the rules its Responses are (SAML review, thirty-seventh round): its signature
 * by RSASSA-PSS or ECDSA only (one by RSA PKCS#1 v1.5 verified before: SAML_METADATA_SIGNATURE_INVALID now, the IdP
 * left without keys), and its trust anchor as strong as the eIDAS key rule asks (a 2048-bit RSA anchor is refused when
 * the IdP is registered: SAML_METADATA_KEY_TOO_WEAK).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { AdapterError } from '../../../adapters/contract.ts';
import { MetadataMonitor } from '../../../adapters/metadata/monitor.ts';
import { EIDAS_KEY_RULE } from '../../../adapters/saml/key-strength.ts';
import { EIDAS_SIGNATURE_METHODS } from '../../../adapters/saml/xmldsig.ts';
import {
  nodeKey,
  nodeMetadataXml,
  PSS_SHA256,
  RSA_SHA256,
  signAsNode,
  type NodeKey,
} from '../../helpers/saml/eidas-node.ts';
import { samlId } from '../../helpers/saml/response-builder.ts';

let anchor: NodeKey;
let signing: NodeKey;
test.before(async () => {
  [anchor, signing] = await Promise.all([nodeKey('rsa', 'CN=anchor'), nodeKey('ec-p256', 'CN=node')]);
});

const NOW = Date.parse('2030-01-01T00:00:00Z');

/** The node's metadata signed by `by` with `method`, and a monitor registered as the gateway registers an eIDAS node. */
function eidasNode(by: NodeKey, method: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'gw-eidas-md-')), 'md.xml');
  const id = samlId();
  const xml = nodeMetadataXml({
    entityId: 'https://node.example/md',
    ssoUrl: 'https://node.example/sso',
    signingCertificates: [signing.certificatePem],
    validUntil: new Date(NOW + 86_400_000),
    id,
  });
  writeFileSync(file, signAsNode(xml, { id, key: by, method, first: true }));
  const monitor = new MetadataMonitor({ now: () => new Date(NOW), random: () => 0.5 });
  const register = () =>
    monitor.register({
      id: 'node',
      source: { file },
      trustAnchors: [by.certificatePem],
      requireValidUntil: true,
      policy: { refreshSeconds: 3600, minSeconds: 30, maxBackoffSeconds: 900 },
      keyRule: EIDAS_KEY_RULE,
      signatureAlgorithms: EIDAS_SIGNATURE_METHODS,
    });
  return { monitor, register };
}

test('eIDAS metadata signed with RSA PKCS#1 v1.5 is SAML_METADATA_SIGNATURE_INVALID; with PSS it is read', async (t) => {
  const weak = eidasNode(anchor, RSA_SHA256);
  const refused = weak.register();
  const status = await weak.monitor.refresh('node');
  weak.monitor.stop();
  t.is(status.lastError?.code, 'SAML_METADATA_SIGNATURE_INVALID');
  t.is(refused.current(), undefined, 'no key of that document is trusted');

  const pss = eidasNode(anchor, PSS_SHA256);
  const read = pss.register();
  const ok = await pss.monitor.refresh('node');
  pss.monitor.stop();
  t.is(ok.lastError, undefined);
  t.is(read.current()?.signingCertificates.length, 1);
});

test('a trust anchor weaker than the eIDAS key rule is refused when the node is registered', async (t) => {
  const weakAnchor = await nodeKey('rsa', 'CN=weak anchor', 2048);
  const error = t.throws(() => eidasNode(weakAnchor, PSS_SHA256).register(), { instanceOf: AdapterError });
  t.is(error?.code, 'SAML_METADATA_KEY_TOO_WEAK');
  t.regex(error?.detail ?? '', /trust anchor/);
});
