/**
 * In-process A/B of the SAML Response verification up to the signed claims (lexical → read-signed), two
 * trees (A, B) loaded in one process, alternating blocks, process CPU per verification.
 * node test/bench/gateway/saml-verify-ab.ts <treeA> <treeB> <ec|rsa> [blocks] [perBlock]
 * (treeA: e.g. `git worktree add --detach /tmp/base main` with node_modules linked; treeB: this tree).
 * Prints the median over adjacent block pairs of B/A, the least disturbed block of each, and medians.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [treeA, treeB, kind, blocksArg, perArg] = process.argv.slice(2) as [
  string,
  string,
  'ec' | 'rsa',
  string?,
  string?,
];
const blocks = Number(blocksArg ?? 8);
const per = Number(perArg ?? 300);
const { startFastIdp } = await import(join(treeA, 'test/bench/gateway/fast-idp.ts'));
const idp = startFastIdp(mkdtempSync(join(tmpdir(), 'ab-')), 'https://idp.bench.test', kind);
const meta = readFileSync(idp.metadataFile, 'utf8');
const certB64 = /<ds:X509Certificate>([^<]+)</.exec(meta)![1]!;
const pem = `-----BEGIN CERTIFICATE-----\n${certB64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
new X509Certificate(pem);
const request = Buffer.from(
  `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_req123" AssertionConsumerServiceURL="https://gw.test/saml/acs"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://gw.test/saml</saml:Issuer></samlp:AuthnRequest>`,
).toString('base64');
const responses = Array.from({ length: 64 }, (_, i) =>
  Buffer.from(idp.respond(request, i).samlResponse, 'base64').toString('utf8'),
);

async function load(tree: string) {
  const { PIPELINE } = await import(join(tree, 'adapters/saml/verify/pipeline.ts'));
  const { DEFAULT_SIGNATURE_METHODS } = await import(join(tree, 'adapters/saml/xmldsig.ts'));
  const wanted = new Set(['lexical', 'structure', 'issuer', 'signatures', 'decrypt', 'read-signed']);
  const steps = (PIPELINE as [string, (c: unknown) => unknown][]).filter(([n]) => wanted.has(n));
  return async (xml: string) => {
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
    } as Record<string, unknown>;
    for (const [, step] of steps) await step(ctx);
    if (!(ctx.claims as { nameId?: unknown })?.nameId) throw new Error('no claims');
    return ctx;
  };
}
const runs = { A: await load(treeA), B: await load(treeB) };
for (const r of Object.values(runs)) for (const x of responses.slice(0, 50)) await r(x); // warm-up
const results: Record<string, number[]> = { A: [], B: [] };
for (let b = 0; b < blocks; b += 1) {
  for (const which of b % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
    const run = runs[which];
    const start = process.cpuUsage();
    for (let i = 0; i < per; i += 1) await run(responses[i % responses.length]!);
    const used = process.cpuUsage(start);
    results[which]!.push((used.user + used.system) / 1000 / per);
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const fmt = (a: number[]) => `${med(a).toFixed(3)} ms [${Math.min(...a).toFixed(3)}–${Math.max(...a).toFixed(3)}]`;
const ratios = results.A!.map((a, i) => results.B![i]! / a);
console.log(
  `${kind}: B/A per adjacent pair: median ${med(ratios).toFixed(3)}; min A ${Math.min(...results.A!).toFixed(3)} ms, min B ${Math.min(...results.B!).toFixed(3)} ms`,
);
console.log(
  `${kind}: A ${fmt(results.A!)}  B ${fmt(results.B!)}  (median of ${blocks} blocks of ${per}; load ${(
    await import('node:os')
  )
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')})`,
);
