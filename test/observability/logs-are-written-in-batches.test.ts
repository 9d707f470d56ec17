/**
 * The gateway's log lines are written in batches (`gateway/observability/logger.ts`, issue #14), and none is
 * kept from standard output: lines logged one request at a time go out in a few writes, a lone line on a
 * quiet gateway is written within the flush period (seen from outside after a SIGKILL), and lines logged
 * just before an uncaught exception are written at exit.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { FLUSH_MS } from '../../gateway/observability/logger.ts';

const LOGGER = fileURLToPath(new URL('../../gateway/observability/logger.ts', import.meta.url));

/** Runs `body` in a child whose standard output is a file; returns the lines in it and the child's stderr. */
function runChild(body: string): { lines: { msg: string; i?: number }[]; stderr: string; signal: string | null } {
  const file = join(mkdtempSync(join(tmpdir(), 'gw-log-')), 'out.log');
  const fd = openSync(file, 'w');
  const script = `import fs from 'node:fs';
let writes = 0;
const write = fs.write;
fs.write = function (...args) { writes += 1; return write.apply(this, args); };
const { createLogger } = await import(${JSON.stringify(LOGGER)});
const log = createLogger('info');
const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
${body}`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', fd, 'pipe'],
    encoding: 'utf8',
    timeout: 30_000,
  });
  closeSync(fd);
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as { msg: string; i?: number });
  return { lines, stderr: result.stderr, signal: result.signal };
}

test('lines logged one request at a time go out in a few writes, every one of them', (t) => {
  const { lines, stderr } = runChild(`
for (let i = 0; i < 100; i += 1) {
  log.info({ requestId: 'request-' + i, method: 'GET', path: '/interaction/x', status: 200, ms: 1.5, i }, 'request');
  await tick();
}
await sleep(${3 * FLUSH_MS});
process.stderr.write(JSON.stringify({ writes }));`);
  t.deepEqual(
    lines.map((line) => line.i),
    Array.from({ length: 100 }, (_, i) => i),
  );
  const { writes } = JSON.parse(stderr) as { writes: number };
  // ~4 by size on a quiet machine (one write per line before: 36); a loaded machine stretches the loop over more
  // flush periods
  t.true(writes <= 20, `${writes} writes for 100 lines`);
});

test('a lone line on a quiet gateway is written within the flush period', (t) => {
  const { lines, signal } = runChild(`
log.warn({ i: 1 }, 'lone line');
await sleep(${15 * FLUSH_MS}); // the period, and room for a loaded machine (without the periodic flush it is never written)
process.kill(process.pid, 'SIGKILL');`);
  t.is(signal, 'SIGKILL');
  t.deepEqual(
    lines.map((line) => line.msg),
    ['lone line'],
  );
});

test('lines logged just before an uncaught exception are written at exit', (t) => {
  const { lines, stderr } = runChild(`
for (let i = 0; i < 30; i += 1) log.info({ i }, 'before the crash');
throw new Error('crash');`);
  t.true(stderr.includes('crash'));
  t.is(lines.length, 30);
});
