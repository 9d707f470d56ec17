/**
 * Metadata documents are trusted only when signed by the configured trust anchor (EID-M1), unexpired
 * (EID-M2), and read from the signed bytes; aggregates yield the one entity asked for. Each refusal
 * has its own code.
 */
import test, { type ExecutionContext } from 'ava';
import { AdapterError } from '../../../adapters/contract.ts';
import { readMetadataEntity } from '../../../adapters/metadata/document.ts';
import { parseDuration } from '../../../adapters/metadata/duration.ts';
import { nodeKey, nodeMetadataXml, PSS_SHA256, signAsNode, type NodeKey } from '../../helpers/saml/eidas-node.ts';
import { samlId } from '../../helpers/saml/response-builder.ts';

let anchor: NodeKey;
let other: NodeKey;
let idpKey: NodeKey;
const now = new Date();
const day = new Date(now.getTime() + 86_400_000);

test.before(async () => {
  [anchor, other, idpKey] = await Promise.all([
    nodeKey('rsa', 'CN=anchor'),
    nodeKey('ec-p256', 'CN=other'),
    nodeKey('rsa', 'CN=idp'),
  ]);
});

function entity(n: number, extra: { validUntil?: Date; cacheDuration?: string } = {}): string {
  return nodeMetadataXml({
    entityId: `https://idp${n}.example/metadata`,
    ssoUrl: `https://idp${n}.example/sso`,
    signingCertificates: [idpKey.certificatePem],
    ...extra,
  }).replace(/ ID="[^"]+"/, '');
}

function signed(xml: string, id: string, key = anchor): string {
  return signAsNode(xml, {
    id,
    key,
    method: key.kind === 'rsa' ? PSS_SHA256 : 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
    first: true,
  });
}

function aggregate(validUntil = day, cacheDuration = 'PT6H'): { xml: string; id: string } {
  const id = samlId();
  const body = [1, 2, 3]
    .map((n) =>
      entity(n).replace(
        ' xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"',
        '',
      ),
    )
    .join('');
  return {
    id,
    xml: `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ID="${id}" validUntil="${validUntil.toISOString()}" cacheDuration="${cacheDuration}">${body}</md:EntitiesDescriptor>`,
  };
}

const options = () => ({ trustAnchors: [anchor.certificatePem], requireValidUntil: true, now });

function code(t: ExecutionContext, fn: () => unknown): string | undefined {
  return t.throws(fn, { instanceOf: AdapterError })?.code;
}

test('an aggregate signed by the trust anchor yields the entity asked for, with validUntil and cacheDuration', (t) => {
  const { xml, id } = aggregate();
  const read = readMetadataEntity(signed(xml, id), 'https://idp2.example/metadata', options());
  t.is(read.metadata.entityId, 'https://idp2.example/metadata');
  t.is(read.metadata.sso.post, 'https://idp2.example/sso');
  t.is(read.validUntil, day.getTime());
  t.is(read.cacheDurationMs, 6 * 3600_000);
});

test('an entity the aggregate does not hold', (t) => {
  const { xml, id } = aggregate();
  t.is(
    code(t, () => readMetadataEntity(signed(xml, id), 'https://nobody.example/metadata', options())),
    'SAML_METADATA_ENTITY_NOT_FOUND',
  );
});

test('unsigned metadata when a trust anchor is configured', (t) => {
  t.is(
    code(t, () => readMetadataEntity(aggregate().xml, 'https://idp1.example/metadata', options())),
    'SAML_METADATA_SIGNATURE_MISSING',
  );
});

test('metadata signed by another key (its certificate in KeyInfo)', (t) => {
  const { xml, id } = aggregate();
  t.is(
    code(t, () => readMetadataEntity(signed(xml, id, other), 'https://idp1.example/metadata', options())),
    'SAML_METADATA_UNTRUSTED',
  );
});

test('metadata changed after signing (a key swapped in)', (t) => {
  const { xml, id } = aggregate();
  const tampered = signed(xml, id).replace('https://idp1.example/sso', 'https://evil.example/sso');
  t.is(
    code(t, () => readMetadataEntity(tampered, 'https://idp1.example/metadata', options())),
    'SAML_METADATA_SIGNATURE_INVALID',
  );
});

test('metadata whose validUntil has passed', (t) => {
  const { xml, id } = aggregate(new Date(now.getTime() - 1000));
  t.is(
    code(t, () => readMetadataEntity(signed(xml, id), 'https://idp1.example/metadata', options())),
    'SAML_METADATA_EXPIRED',
  );
});

test("metadata without validUntil when it is required; the entity's own validUntil counts too", (t) => {
  const id = samlId();
  const bare = entity(1).replace('<md:EntityDescriptor ', `<md:EntityDescriptor ID="${id}" `);
  t.is(
    code(t, () => readMetadataEntity(signed(bare, id), undefined, options())),
    'SAML_METADATA_INVALID',
  );
  const early = new Date(now.getTime() + 60_000);
  const withEntityExpiry = entity(1, { validUntil: early }).replace(
    '<md:EntityDescriptor ',
    `<md:EntityDescriptor ID="${id}" `,
  );
  t.is(readMetadataEntity(signed(withEntityExpiry, id), undefined, options()).validUntil, early.getTime());
});

test('a DOCTYPE in metadata is refused before parsing', (t) => {
  t.is(
    code(t, () =>
      readMetadataEntity(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${entity(1)}`, undefined, {
        ...options(),
        trustAnchors: [],
      }),
    ),
    'SAML_METADATA_INVALID',
  );
});

test('xs:duration values of cacheDuration', (t) => {
  t.is(parseDuration('PT6H'), 21_600_000);
  t.is(parseDuration('P1DT30M'), 88_200_000);
  t.is(parseDuration('PT1.5S'), 1500);
  t.is(parseDuration('P1Y'), undefined);
  t.is(parseDuration('P'), undefined);
  t.is(parseDuration('PT'), undefined);
});
