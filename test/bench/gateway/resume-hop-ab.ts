/**
 * In-process A/B (issue #14): the end of a login after the IdP's answer, with the completion step at its own
 * request (A: GET /interaction/:uid/complete, then the resume GET /auth/:uid — the path before this change,
 * still served for old links) against the completion step inside the resume (B: GET /auth/:uid only). One
 * gateway in this process (the whole app, real PostgreSQL, Redis, SoftHSM2); each login runs up to the ACS's
 * redirect unmeasured, then only its end is measured: this process's CPU (gateway and the scripted browser's
 * fetch), requests, wall time. Rounds of blocks A B B A; the two A blocks of a round against each other are the
 * A/A control. Medians over rounds. Measurement only.
 *
 *   node test/harness/with-stack.ts -- node test/bench/gateway/resume-hop-ab.ts
 */
import { authorizationRequest, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 8);
const PER_BLOCK = Number(process.env.PER_BLOCK ?? 8);
const fx = await startGatewayFixture();

type Variant = 'A' | 'B';
let failures = 0;
let count = 0;

/** One login's end, measured: CPU µs and requests. */
async function loginEnd(variant: Variant): Promise<{ cpu: number; requests: number }> {
  const request = await authorizationRequest(fx.rp);
  const username = ['marie', 'jean'][count++ % 2]!;
  const journey = await loginJourney(request.url, { username, redirectUri: `${fx.url}/auth/` });
  const { browser } = journey;
  const before = browser.trail.length;
  const started = process.cpuUsage();
  let resume = journey.url;
  if (variant === 'A') {
    const complete = await browser.request(new URL(`/interaction/${journey.loginId}/complete`, fx.url));
    await complete.body?.cancel();
    if (complete.status !== 303) throw new Error('A: not an allow (a step-up page)');
    resume = new URL(complete.headers.get('location')!, fx.url);
  }
  const answer = await browser.request(resume);
  await answer.body?.cancel();
  const used = process.cpuUsage(started);
  // the risk pipeline may ask a person logging in again and again for a step-up: not an allow, not measured
  if (!new URL(answer.headers.get('location') ?? 'x:', fx.url).searchParams.get('code'))
    throw new Error(`${variant}: not an allow (${answer.headers.get('location')})`);
  return { cpu: used.user + used.system, requests: browser.trail.length - before };
}

async function block(variant: Variant): Promise<{ cpuMs: number; requests: number }> {
  let cpu = 0;
  let requests = 0;
  let done = 0;
  for (let i = 0; i < PER_BLOCK; i++) {
    try {
      const one = await loginEnd(variant);
      cpu += one.cpu;
      requests += one.requests;
      done += 1;
    } catch (error) {
      failures += 1;
      if (failures <= 3) console.error(`${variant}: not measured: ${(error as Error).message}`);
    }
  }
  return { cpuMs: cpu / done / 1000, requests: requests / done };
}

const median = (all: number[]) => {
  const s = all.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

await block('A'); // warm-up: keys, DEKs, scripts, JIT
await block('B');
const a: number[] = [];
const b: number[] = [];
const aa: number[] = [];
const ab: number[] = [];
let requestsA = 0;
let requestsB = 0;
for (let round = 0; round < ROUNDS; round++) {
  const a1 = await block('A');
  const b1 = await block('B');
  const b2 = await block('B');
  const a2 = await block('A');
  a.push(a1.cpuMs, a2.cpuMs);
  b.push(b1.cpuMs, b2.cpuMs);
  aa.push(a2.cpuMs - a1.cpuMs);
  ab.push((a1.cpuMs + a2.cpuMs) / 2 - (b1.cpuMs + b2.cpuMs) / 2);
  requestsA = a1.requests;
  requestsB = b1.requests;
}
console.log(`resume-hop A/B: ${ROUNDS} rounds of A B B A, ${PER_BLOCK} logins per block (the end of each login only)`);
console.log(
  `  A (/interaction/:uid/complete, then /auth/:uid): ${requestsA} requests, CPU ${median(a).toFixed(2)} ms per login end`,
);
console.log(
  `  B (/auth/:uid, the completion inside):           ${requestsB} requests, CPU ${median(b).toFixed(2)} ms per login end`,
);
console.log(`  A − B per round: median ${median(ab).toFixed(2)} ms [${ab.map((x) => x.toFixed(2)).join(' ')}]`);
console.log(`  control A − A per round: median ${median(aa).toFixed(2)} ms [${aa.map((x) => x.toFixed(2)).join(' ')}]`);
console.log(
  `  logins not measured (not an allow: the risk pipeline's step-up of a person logging in again and again): ${failures}`,
);
await fx.stop();
