/**
 * Benchmark: signatures per second through the `Signer` seam (session pool, cached handles, lifecycle
 * guard, async C_Sign) versus raw pkcs11js calls (own sessions, C_SignInit + C_SignAsync) on the same
 * token, same key, same concurrency, per algorithm, in the same run. Rounds alternate seam/raw so that
 * drift hits both; the best round of each is reported.
 *
 * Run: node test/harness/with-stack.ts -- node test/bench/crypto/signer-vs-raw-pkcs11.ts [signatures=400] [concurrency=4] [rounds=3]
 */
import { createHash } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { TOKEN_ALGORITHMS, type TokenAlgorithmRow } from '../../../hsm/algorithms.ts';
import { findObjects } from '../../../hsm/pkcs11/find.ts';
import type { Pkcs11Signer } from '../../../hsm/pkcs11-signer.ts';
import { openKeyStore } from '../../../hsm/token-keystore.ts';
import { freshToken } from '../../helpers/services.ts';

const total = Number(process.argv[2] ?? 400);
const concurrency = Number(process.argv[3] ?? 4);
const rounds = Number(process.argv[4] ?? 3);

const token = freshToken();
const store = await openKeyStore({
  library: token.library,
  tokenLabel: token.label,
  pin: token.pin,
  poolSize: concurrency,
});
const lib = store.token.lib;
const data = Buffer.from('eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2d3LmV4YW1wbGUiLCJzdWIiOiJhYmMifQ');

function mechanism(row: TokenAlgorithmRow): pkcs11js.Mechanism {
  const { pss } = row.pkcs11;
  if (!pss) return { mechanism: row.pkcs11.mechanism };
  return {
    mechanism: row.pkcs11.mechanism,
    parameter: {
      type: pkcs11js.CK_PARAMS_RSA_PSS,
      hashAlg: pss.hashAlg,
      mgf: pss.mgf,
      saltLen: pss.saltLength,
    } as pkcs11js.RsaPSS,
  };
}

async function run(work: (worker: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < total) {
        next += 1;
        await work(worker);
      }
    }),
  );
  return total / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function rawSigner(
  signer: Pkcs11Signer,
): Promise<{ sign: (worker: number) => Promise<Buffer>; close: () => void }> {
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === token.label)!;
  const sessions = Array.from({ length: concurrency }, () =>
    lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION),
  );
  const [handle] = findObjects(lib, sessions[0]!, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_ID, value: Buffer.from(signer.ckaId, 'hex') },
  ]);
  const row = signer.row;
  const mech = mechanism(row);
  return {
    async sign(worker) {
      const session = sessions[worker]!;
      const input = row.pkcs11.hashInProcess ? createHash(row.hash!).update(data).digest() : data;
      lib.C_SignInit(session, mech, handle!);
      return lib.C_SignAsync(session, input, Buffer.alloc(row.signatureLength));
    },
    close: () => sessions.forEach((s) => lib.C_CloseSession(s)),
  };
}

const lines: string[] = [];
for (const row of TOKEN_ALGORITHMS) {
  // in-process rows (ML-DSA-65) have no PKCS#11 mechanism to compare with
  const signer = await store.generate('client_auth', row.name);
  signer.setGuard(() => undefined); // the lifecycle installs a guard on every signer: measure it too
  const raw = await rawSigner(signer);
  await run(() => signer.sign(data));
  await run((w) => raw.sign(w)); // warm-up
  let seam = 0;
  let direct = 0;
  for (let i = 0; i < rounds; i += 1) {
    seam = Math.max(seam, await run(() => signer.sign(data)));
    direct = Math.max(direct, await run((w) => raw.sign(w)));
  }
  raw.close();
  lines.push(
    `| ${row.name.padEnd(5)} | ${seam.toFixed(0).padStart(6)} | ${direct.toFixed(0).padStart(6)} | ${((seam / direct) * 100).toFixed(0).padStart(4)} % |`,
  );
}
await store.close();

console.log(
  `# node test/harness/with-stack.ts -- node test/bench/crypto/signer-vs-raw-pkcs11.ts ${total} ${concurrency} ${rounds}`,
);
console.log(
  `# SoftHSM 2, ${total} signatures per round, concurrency ${concurrency}, best of ${rounds} rounds, node ${process.version}`,
);
console.log('| alg   | Signer/s | raw/s | seam/raw |');
console.log('|-------|--------|--------|--------|');
for (const line of lines) console.log(line);
