/**
 * In-process A/B of the two signatures an "ES256 client + ECDSA IdP" login makes in the gateway, with the
 * key each algorithm gets: the AuthnRequest (build + xml-crypto SignedInfo + HSM signature, `signedAuthnRequest`)
 * and a JWT access token's signing input (one HSM signature), RS256 (RSA-3072) against ES256 (P-256).
 * Alternating blocks, process CPU (user + system: SoftHSM runs in this process), median of the blocks.
 *
 * Run: node test/harness/with-stack.ts -- node test/bench/crypto/request-signing-ab.ts [blocks=8] [perBlock=100]
 */
import { signedAuthnRequest } from '../../../adapters/saml/authn-request.ts';
import { ensureKeys, openKeyStore } from '../../../hsm/token-keystore.ts';
import { selfSignedCertificate } from '../../../hsm/x509.ts';
import type { Signer } from '../../../hsm/signer.ts';
import { freshToken } from '../../helpers/services.ts';

const blocks = Number(process.argv[2] ?? 8);
const perBlock = Number(process.argv[3] ?? 100);
const token = freshToken();
const store = await openKeyStore({ library: token.library, tokenLabel: token.label, pin: token.pin, poolSize: 1 });
try {
  await ensureKeys(store, [
    { purpose: 'saml', alg: 'RS256' },
    { purpose: 'saml', alg: 'ES256' },
    { purpose: 'id_token', alg: 'RS256' },
    { purpose: 'id_token', alg: 'ES256' },
  ]);
  const certificates = new Map<Signer, string>();
  for (const alg of ['RS256', 'ES256'] as const) {
    const signer = store.activeSigner('saml', alg);
    certificates.set(signer, await selfSignedCertificate(signer, { subject: `CN=sp ${alg}`, days: 1 }));
  }
  const input = {
    spEntityId: 'https://gateway.example/saml/metadata',
    acsUrl: 'https://gateway.example/saml/acs',
    destination: 'https://idp.example/sso',
    minimumLoa: 'http://eidas.europa.eu/LoA/substantial' as const,
    forceAuthn: false,
  };
  const jwt = Buffer.from(
    `eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.${Buffer.from('x'.repeat(300)).toString('base64url')}`,
  );
  const cases: Record<string, () => Promise<unknown>> = {};
  for (const alg of ['RS256', 'ES256'] as const) {
    const saml = store.activeSigner('saml', alg);
    const at = store.activeSigner('id_token', alg);
    cases[`AuthnRequest ${alg}`] = () =>
      signedAuthnRequest({ ...input, issueInstant: new Date() }, saml, certificates.get(saml)!);
    cases[`access token ${alg}`] = () => at.sign(jwt);
  }
  const results = new Map<string, number[]>();
  for (const work of Object.values(cases)) for (let i = 0; i < 20; i++) await work(); // warm-up
  for (let b = 0; b < blocks; b++) {
    for (const [name, work] of Object.entries(cases)) {
      const before = process.cpuUsage();
      for (let i = 0; i < perBlock; i++) await work();
      const used = process.cpuUsage(before);
      results.set(name, [...(results.get(name) ?? []), (used.user + used.system) / 1000 / perBlock]);
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  console.log(
    `# node test/harness/with-stack.ts -- node test/bench/crypto/request-signing-ab.ts ${blocks} ${perBlock}`,
  );
  for (const [name, values] of results)
    console.log(
      `${name.padEnd(22)} ${median(values).toFixed(3)} ms CPU [${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)}]`,
    );
} finally {
  await store.close();
}
