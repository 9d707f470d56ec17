/**
 * What one log line costs the gateway (issue #14: ~9 lines per full login): the request line
 * (`observability/request-id.ts`) written through the gateway's own logger (`observability/logger.ts`:
 * redaction, ISO time, batched asynchronous destination) against variants, alternated in blocks in this one
 * process, median CPU per line (process.cpuUsage). The destination is /dev/null through the same sonic-boom
 * batching, so the write's system call is in the figure, as often as in the gateway.
 *
 *   node test/bench/gateway/log-line-cost.ts
 *
 * Variants: `gateway` (as deployed), `no redact` (what the redaction costs), `epoch time` (what the ISO
 * timestamp costs), `child per request` (a pino child carrying the request id, made per request: the
 * pattern often proposed), `sync destination` (a write(2) per line: what the batching saves), `gateway
 * again` (A/A control). BLOCKS (default 60), LINES per block (default 2000).
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { createLogger } from '../../../gateway/observability/logger.ts';

const BLOCKS = Number(process.env.BLOCKS ?? 60);
const LINES = Number(process.env.LINES ?? 2000);
const batched = (): DestinationStream =>
  pino.destination({ dest: '/dev/null', sync: false, minLength: 4096, periodicFlush: 200 });

const base = { name: 'gateway', level: 'info', base: { pid: process.pid } };
const REDACT = ['req.headers.cookie', 'req.headers.authorization', '*.client_secret', '*.pin', '*.password'];
const variants: Array<[string, Logger, boolean]> = [
  ['gateway', createLogger('info', 'gateway', batched()), false],
  ['no redact', pino({ ...base, timestamp: pino.stdTimeFunctions.isoTime }, batched()), false],
  ['epoch time', pino({ ...base, redact: REDACT }, batched()), false],
  ['child per request', createLogger('info', 'gateway', batched()), true],
  [
    'sync destination',
    pino(
      { ...base, timestamp: pino.stdTimeFunctions.isoTime, redact: REDACT },
      pino.destination({ dest: '/dev/null', sync: true }),
    ),
    false,
  ],
  ['gateway again', createLogger('info', 'gateway', batched()), false],
];

function block(logger: Logger, child: boolean): number {
  const start = process.cpuUsage();
  for (let i = 0; i < LINES; i++) {
    const requestId = `3f1c0e7a-9b2d-4c55-8e61-${String(100000000000 + i)}`;
    const fields = { method: 'GET', path: '/interaction/kO0TmabeehVdBCClICdZVUrOiyGRVRUW', status: 200, ms: 4.2 };
    if (child) logger.child({ requestId }).info(fields, 'request');
    else logger.info({ requestId, ...fields }, 'request');
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) / LINES) * 1; // µs per line
}

const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
for (const [, logger, child] of variants) block(logger, child); // warm-up
for (let b = 0; b < BLOCKS; b++) {
  const order = b % 2 === 0 ? variants : [...variants].reverse();
  for (const [name, logger, child] of order) samples.get(name)!.push(block(logger, child));
  await new Promise((resolve) => setImmediate(resolve)); // let the batched writes go out
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
console.log(`log line cost on Node ${process.versions.node}: ${BLOCKS} blocks × ${LINES} request lines per variant`);
console.log('$ node test/bench/gateway/log-line-cost.ts');
const reference = median(samples.get('gateway')!);
for (const [name] of variants) {
  const m = median(samples.get(name)!);
  console.log(
    `  ${name.padEnd(18)} ${m.toFixed(2)} µs per line (${m - reference >= 0 ? '+' : ''}${(m - reference).toFixed(2)})`,
  );
}
