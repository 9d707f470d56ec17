/**
 * Load-independent counts of one SAML Response verification (lexical → read-signed, one Assertion
 * signature, one metadata certificate), for a tree: XPath evaluations (xml-crypto's copy of `xpath`),
 * parses by xml-crypto's @xmldom/xmldom and by the strict parser, deep copies of an element and the nodes
 * they copied. node test/bench/gateway/saml-verify-counts.ts <tree>
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
const [tree] = process.argv.slice(2) as [string];
const req = createRequire(join(tree, 'package.json'));
const fromXc = createRequire(req.resolve('xml-crypto'));
const xpath = fromXc('xpath');
const xd = fromXc('@xmldom/xmldom');
const xd9 = req('@xmldom/xmldom');
const counts: Record<string, number> = { xpath: 0, parseXc: 0, parseStrict: 0, clones: 0, nodesCopied: 0 };
const size = (n: { firstChild: unknown; nextSibling: unknown }): number => {
  let total = 1;
  for (let c = n.firstChild as typeof n | null; c; c = c.nextSibling as typeof n | null) total += size(c);
  return total;
};
const sel = xpath.selectWithResolver;
xpath.selectWithResolver = (...a: unknown[]) => {
  counts.xpath!++;
  return sel(...a);
};
const p8 = xd.DOMParser.prototype.parseFromString;
xd.DOMParser.prototype.parseFromString = function (...a: unknown[]) {
  counts.parseXc!++;
  return p8.apply(this, a);
};
const p9 = xd9.DOMParser.prototype.parseFromString;
xd9.DOMParser.prototype.parseFromString = function (...a: unknown[]) {
  counts.parseStrict!++;
  return p9.apply(this, a);
};
for (const proto of [xd9.Node.prototype, xd.Node?.prototype].filter(Boolean)) {
  const c = proto.cloneNode;
  proto.cloneNode = function (deep: boolean) {
    const copy = c.call(this, deep);
    if (deep && this.nodeType === 1) {
      counts.clones!++;
      counts.nodesCopied! += size(copy);
    }
    return copy;
  };
}
const { startFastIdp } = await import(join(tree, 'test/bench/gateway/fast-idp.ts'));
const idp = startFastIdp(mkdtempSync(join(tmpdir(), 'ab-')), 'https://idp.bench.test', 'ec');
const meta = readFileSync(idp.metadataFile, 'utf8');
const certB64 = /<ds:X509Certificate>([^<]+)</.exec(meta)![1]!;
const pem = `-----BEGIN CERTIFICATE-----\n${certB64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
const request = Buffer.from(
  `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_req123" AssertionConsumerServiceURL="https://gw.test/saml/acs"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://gw.test/saml</saml:Issuer></samlp:AuthnRequest>`,
).toString('base64');
const xml = Buffer.from(idp.respond(request, 0).samlResponse, 'base64').toString('utf8');
const { PIPELINE } = await import(join(tree, 'adapters/saml/verify/pipeline.ts'));
const { DEFAULT_SIGNATURE_METHODS } = await import(join(tree, 'adapters/saml/xmldsig.ts'));
const wanted = new Set(['lexical', 'structure', 'issuer', 'signatures', 'decrypt', 'read-signed']);
const ctx = {
  env: {
    profile: 'legacy',
    idp: {
      id: 'bench',
      signatureAlgorithms: DEFAULT_SIGNATURE_METHODS,
      requiredSignatures: 'assertion',
      encryptedAssertions: 'allowed',
    },
    metadata: { entityId: idp.entityId, sso: {}, signingCertificates: [pem] },
    sp: { entityId: 'https://gw.test/saml' },
    now: new Date(),
  },
  message: {},
  xml,
  signed: { count: 0 },
} as Record<string, unknown> & { signed: { count: number }; claims?: { nameId?: unknown } };
for (const [n, step] of PIPELINE as [string, (c: unknown) => unknown][]) if (wanted.has(n)) await step(ctx);
console.log(tree, 'signatures verified', ctx.signed.count, JSON.stringify(counts), 'nameId', !!ctx.claims?.nameId);
