/**
 * In-process A/B of building and signing an AuthnRequest for the HTTP-POST binding (`signedAuthnRequest`),
 * two trees (A, B) loaded in one process, alternating blocks, process CPU per request. The signature is made
 * by an in-process ES256 key (a `Signer` over node:crypto, ~0.05 ms, the same in A and B), so the figure is
 * the XML work. A/A (the same tree twice) is the control.
 * node test/bench/gateway/authn-request-ab.ts <treeA> <treeB> [blocks] [perBlock]
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { join } from 'node:path';

const [treeA, treeB, blocksArg, perArg] = process.argv.slice(2) as [string, string, string?, string?];
const blocks = Number(blocksArg ?? 10);
const per = Number(perArg ?? 300);

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = {
  kid: 'bench-es256',
  alg: 'ES256',
  purpose: 'saml',
  publicJwk: publicKey.export({ format: 'jwk' }),
  publicKey: (): KeyObject => publicKey,
  sign: async (data: Uint8Array) => sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
};
const { selfSignedCertificate } = await import(join(treeB, 'hsm/x509.ts'));
const certificatePem: string = await selfSignedCertificate(signer, { subject: 'CN=bench sp', days: 1 });

async function load(tree: string) {
  const { signedAuthnRequest } = await import(join(tree, 'adapters/saml/authn-request.ts'));
  return (i: number) =>
    signedAuthnRequest(
      {
        spEntityId: 'https://gateway.bench.test/saml/metadata',
        acsUrl: 'https://gateway.bench.test/saml/acs',
        destination: 'https://idp.bench.test/sso',
        minimumLoa: 'http://eidas.europa.eu/LoA/substantial',
        forceAuthn: i % 2 === 0,
        issueInstant: new Date(),
        nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      },
      signer,
      certificatePem,
    );
}
const runs = { A: await load(treeA), B: await load(treeB) };
for (const r of Object.values(runs)) for (let i = 0; i < 100; i += 1) await r(i); // warm-up
const results: Record<'A' | 'B', number[]> = { A: [], B: [] };
for (let b = 0; b < blocks; b += 1) {
  for (const which of b % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
    const start = process.cpuUsage();
    for (let i = 0; i < per; i += 1) await runs[which](i);
    const used = process.cpuUsage(start);
    results[which].push((used.user + used.system) / 1000 / per);
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const fmt = (a: number[]) => `${med(a).toFixed(3)} ms [${Math.min(...a).toFixed(3)}–${Math.max(...a).toFixed(3)}]`;
const ratios = results.A.map((a, i) => results.B[i]! / a);
console.log(`AuthnRequest: B/A per adjacent pair: median ${med(ratios).toFixed(3)}`);
console.log(
  `AuthnRequest: A ${fmt(results.A)}  B ${fmt(results.B)}  (median of ${blocks} blocks of ${per}; load ${(
    await import('node:os')
  )
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')})`,
);
