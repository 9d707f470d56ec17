/**
 * The chaos run of issue #15: two gateway processes behind a round-robin balancer (topology.ts: a PostgreSQL
 * primary with a streaming replica, Redis under Sentinel, the stack's SoftHSM2 token), a steady login load
 * (two browsers logging people in back to back), and one fault per phase (faults.ts). Per fault it prints
 * logins attempted / completed / failed with a code / bare 500s / lost (a code without its audit trail),
 * audit records expected vs found, time to recover, what the fault's own probes saw, the codes the gateway
 * logged, and at the end whether `audit verify` passes over the whole log. Target: 0 lost, 0 unaudited, 0 × 500.
 *
 *   node test/harness/with-stack.ts -- node test/bench/chaos/chaos.bench.ts
 *   CHAOS_LOGINS=16 CHAOS_FAULTS=hsm-saturation,slow-risk node test/harness/with-stack.ts -- node test/bench/chaos/chaos.bench.ts
 *
 * The run stops by itself: a phase goes on after its logins until a login begun after the fault (after its
 * end, for a fault held for a while) has completed and the fault's own `settled` holds, 120 s at most.
 */
import * as oidc from 'openid-client';
import { verifyAsOperator } from './audit-verify.ts';
import { FAULTS } from './faults.ts';
import { codeOfRequest, codesLogged, linesSince, logOffsets } from './gateway-logs.ts';
import { tally, type LoginResult, type PhaseFigures } from './ledger.ts';
import { oneLogin } from './login.ts';
import { startChaosBed } from './topology.ts';

const LOGINS = Number(process.env.CHAOS_LOGINS ?? 24);
const FAULT_AFTER = Math.max(2, Math.floor(LOGINS / 4));
const BROWSERS = 2;
const PHASE_CAP_MS = 120_000;
const chosen = (process.env.CHAOS_FAULTS ?? Object.keys(FAULTS).join(',')).split(',');
for (const name of chosen)
  if (!FAULTS[name]) throw new Error(`unknown fault ${name}; known: ${Object.keys(FAULTS).join(', ')}`);

const { bed, token, stop } = await startChaosBed();
const rp = await oidc.discovery(
  new URL(bed.deployment.gatewayUrl),
  bed.deployment.client.client_id,
  bed.deployment.client.client_secret,
  undefined,
  { execute: [oidc.allowInsecureRequests] },
);

async function auditRows(): Promise<number> {
  const { rows } = await bed.pool.query<{ n: number }>('select count(*)::int as n from audit_log');
  return rows[0]!.n;
}

/** Waits until the audit log stops growing (the processes' spools have drained) for 3 s, 60 s at most. */
async function settle(): Promise<void> {
  let last = -1;
  let stable = 0;
  for (let i = 0; i < 120 && stable < 6; i += 1) {
    await new Promise((r) => setTimeout(r, 500));
    const now = await auditRows().catch(() => -1);
    stable = now === last && now >= 0 ? stable + 1 : 0;
    last = now;
  }
}

const figures: Array<PhaseFigures & { notes: string[]; took: boolean }> = [];
for (const name of chosen) {
  const fault = FAULTS[name]!;
  await fault.prepare?.(bed);
  process.stdout.write(`fault ${name} (${fault.what}): ${LOGINS} logins, the fault after ${FAULT_AFTER} … `);
  const offsets = logOffsets(bed.dir);
  const results: LoginResult[] = [];
  const startedAt = Date.now();
  let started = 0;
  let faultAt = Number.POSITIVE_INFINITY;
  let faultEnd = Number.POSITIVE_INFINITY;
  let injected: Promise<() => Promise<void>> | undefined;
  const from = () => (fault.recoveryFrom === 'start' ? faultAt : faultEnd);
  // a phase goes on after its LOGINS until a login begun after the fault (its end, for a fault held a while)
  // has completed and the fault says the gateway is settled, 120 s at most; a person whose login failed tries
  // again a second later (failures are fast: without the pause a phase would be over before a failover is)
  const over = async () =>
    Date.now() - faultAt > PHASE_CAP_MS ||
    (results.some((r) => r.ended === 'code' && r.startedAt >= from()) && ((await fault.settled?.(bed)) ?? true));
  const browser = async () => {
    while (started < LOGINS || !(await over())) {
      const n = (started += 1);
      if (n === FAULT_AFTER + 1) {
        faultAt = Date.now();
        injected = fault.inject(bed).then((heal) => {
          faultEnd = Date.now();
          return heal;
        });
      }
      const result = await oneLogin(rp, n);
      results.push(result);
      if (result.ended !== 'code') await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  };
  await Promise.all(Array.from({ length: BROWSERS }, browser));
  const heal = await injected;
  await heal?.();
  await settle();
  // a 503 page shows INTERNAL or oidc-provider's server_error (no code at or above 500 is exposed): its own
  // code is in the log, under the reference the page gives
  const lines = linesSince(bed.dir, offsets);
  for (const r of results) {
    if (r.ended === 'code' || !r.ended.requestId || r.ended.status < 500) continue;
    const logged = codeOfRequest(lines, r.ended.requestId);
    if (logged && logged !== r.ended.code) r.ended.code = `${logged} (page: ${r.ended.code})`;
  }
  const phase = await tally(bed.pool, name, from(), results);
  const { notes, took } = (await fault.report?.(bed, {
    startedAt,
    faultAt,
    faultEnd,
    results,
    logOffsets: offsets,
  })) ?? {
    notes: [],
    took: true,
  };
  if (!took) notes.push('THE FAULT TOOK NO EFFECT: this phase proves nothing (the run fails)');
  for (const r of results)
    if (r.ended !== 'code' && r.ended.detail) notes.push(`unexpected page (${r.ended.status}): ${r.ended.detail}`);
  const codes = Object.entries(codesLogged(lines)).map(([c, n]) => `${c} ${n}`);
  notes.push(`codes logged by the gateway (warn and above): ${codes.join(', ') || 'none'}`);
  figures.push({ ...phase, notes, took });
  console.log(
    `${phase.completed} completed, ${phase.failedWithCode} failed with a code, ${phase.internal} × 500, ${phase.lost} lost`,
  );
}

const verified = await verifyAsOperator(bed, token);
console.log(
  `\n| fault | attempted | completed | failed with a code | × 500 | lost | unaudited | audit expected / found | recovery |\n|---|---|---|---|---|---|---|---|---|`,
);
for (const f of figures)
  console.log(
    `| ${f.fault} | ${f.attempted} | ${f.completed} | ${f.failedWithCode}${
      Object.keys(f.codes).length
        ? ` (${Object.entries(f.codes)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ')})`
        : ''
    } | ${f.internal} | ${f.lost} | ${f.auditExpected - f.auditFound} | ${f.auditExpected} / ${f.auditFound} | ${f.recoveryMs === null ? 'none' : `${(f.recoveryMs / 1000).toFixed(1)} s`} |`,
  );
for (const f of figures)
  console.log(
    `\n${f.fault}:\n${[
      ...f.notes,
      `failed logins past the chooser with a failure record in the audit log: ${f.failedAudited} of ${f.failedWithLoginId}`,
    ]
      .map((n) => `- ${n}`)
      .join('\n')}`,
  );
console.log(
  `\naudit verify over the whole log (the token's audit keys trusted, the anchor file): ${verified.ok ? `passes (${verified.records} records, ${verified.checkpoints} checkpoints)` : `FAILS ${JSON.stringify(verified).slice(0, 400)}`}`,
);

await stop();
const bad = figures.some((f) => f.lost || f.internal || f.auditFound < f.auditExpected || !f.took) || !verified.ok;
process.exit(bad ? 1 : 0);
