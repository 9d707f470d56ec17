/**
 * Benchmark of the crypto-agility proof: concurrent complete logins across two gateway instances while
 * the ID-token keys rotate 20 times (with the ES256 → EdDSA → PS256 → ES256 cycle). Prints logins,
 * failures, logins per second, rotations and the algorithms the RP received.
 *
 * Run: node test/harness/with-stack.ts -- node test/bench/crypto/rotations-under-load.ts [concurrency=4] [leadMs=600]
 */
import { runRotationsUnderLoad } from '../../crypto-agility/rotation-load.ts';
import { startTwoGateways } from '../../crypto-agility/two-gateways.ts';

const concurrency = Number(process.argv[2] ?? 4);
const leadTimeMs = Number(process.argv[3] ?? 600);
const env = await startTwoGateways({ keyTimes: { leadTimeMs }, keyPollMs: 200, rotation: { intervalMs: 0 } });
try {
  const r = await runRotationsUnderLoad(env, { concurrency, leadTimeMs, switchLeadMs: 5_000 });
  console.log(
    `# node test/harness/with-stack.ts -- node test/bench/crypto/rotations-under-load.ts ${concurrency} ${leadTimeMs}`,
  );
  console.log(`# two in-process gateway instances, one PostgreSQL/Redis/SoftHSM2 token, node ${process.version}`);
  console.log(
    `logins            ${r.logins} (${(r.logins / (r.durationMs / 1000)).toFixed(1)}/s over ${(r.durationMs / 1000).toFixed(1)} s, ${concurrency} concurrent)`,
  );
  console.log(`failed logins     ${r.failures.length}${r.failures.length ? ` e.g. ${r.failures[0]}` : ''}`);
  console.log(`rotations         ${r.rotations} (algorithm switches ${r.algorithmSwitches})`);
  console.log(
    `ID-token algs     ${Object.entries(r.algs)
      .map(([alg, n]) => `${alg}=${n}`)
      .join(' ')}; distinct kids ${r.kids}`,
  );
  console.log(`late verification ${r.lateFailures.length} failures against the final /jwks of both instances`);
  console.log(`provider builds   A=${r.providerGenerations.a} B=${r.providerGenerations.b}`);
} finally {
  await env.stop();
}
