/**
 * CRYPTO-SAML-06 judges the SP metadata's lifetime as an IdP needs it: a cacheDuration on the root, and a
 * validUntil at least two of those periods away. The gateway's old metadata (7 days, no cacheDuration) fails.
 */
import test from 'ava';
import { judgeMetadataLifetime } from '../../conformance/suite/checks/crypto/saml-metadata.ts';

const now = Date.parse('2030-01-01T00:00:00Z');
const root = (attrs: string) =>
  `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_a" entityID="https://gw.example/saml/metadata"${attrs}><md:SPSSODescriptor/></md:EntityDescriptor>`;
const inDays = (d: number) => new Date(now + d * 86400_000).toISOString();

test('a cacheDuration and a validUntil two periods away pass', (t) => {
  t.true(judgeMetadataLifetime(root(` validUntil="${inDays(7)}" cacheDuration="PT86400S"`), now)[0]);
  t.true(judgeMetadataLifetime(root(` validUntil="${inDays(2)}" cacheDuration="P1D"`), now)[0]);
  t.true(judgeMetadataLifetime(root(` validUntil="${inDays(1)}" cacheDuration="PT6H"`), now)[0]);
});

test('no cacheDuration (the gateway before issue #13 item 13), too short a validity, or an expired document fail', (t) => {
  t.false(judgeMetadataLifetime(root(` validUntil="${inDays(7)}"`), now)[0]);
  t.false(judgeMetadataLifetime(root(` validUntil="${inDays(1)}" cacheDuration="PT86400S"`), now)[0]);
  t.false(judgeMetadataLifetime(root(` validUntil="${inDays(-1)}" cacheDuration="PT3600S"`), now)[0]);
  t.false(judgeMetadataLifetime(root(` cacheDuration="PT3600S"`), now)[0]);
  t.false(judgeMetadataLifetime(root(` validUntil="${inDays(7)}" cacheDuration="PT"`), now)[0]);
});
