/**
 * The risk pipeline's p99 window (`gateway/risk/overload.ts`): CPU per login of keeping the p99 of the last
 * `windowSize` assessments, the former way (the window copied and sorted at every sample) against
 * `SlidingPercentile` (one binary search and one native shift per sample). Every login that runs the normal path
 * records one sample. Pure CPU, in this process.
 *
 *   node test/harness/with-stack.ts -- node test/bench/risk/p99-window.bench.ts
 */
import { SlidingPercentile } from '../../../gateway/risk/sliding-percentile.ts';

function sortingTheWindow(size: number, rounds: number): number {
  // the window full first (unmeasured): the steady state of a gateway that has seen windowSize logins
  const samples = Array.from({ length: size }, (_, i) => ({ at: i - size, ms: Math.random() * 50 }));
  let sink = 0;
  const start = performance.now();
  for (let i = 0; i < rounds; i += 1) {
    samples.push({ at: i, ms: Math.random() * 50 });
    while (samples.length > size) samples.shift();
    const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
    sink += sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
  }
  if (Number.isNaN(sink)) throw new Error('unreachable');
  return (performance.now() - start) / rounds;
}

function sliding(size: number, rounds: number): number {
  const window = new SlidingPercentile(size);
  for (let i = 0; i < size; i += 1) window.add(i - size, Math.random() * 50);
  let sink = 0;
  const start = performance.now();
  for (let i = 0; i < rounds; i += 1) {
    window.add(i, Math.random() * 50);
    window.dropBefore(-Infinity);
    sink += window.quantile(0.99);
  }
  if (Number.isNaN(sink)) throw new Error('unreachable');
  return (performance.now() - start) / rounds;
}

console.log('p99 window of the risk pipeline, CPU per recorded assessment (a full window, 3 runs each):');
for (const [size, rounds] of [
  [1_000, 20_000],
  [100_000, 100],
] as const) {
  const sorted = [0, 1, 2].map(() => sortingTheWindow(size, rounds)).map((ms) => (ms * 1000).toFixed(1));
  const kept = [0, 1, 2].map(() => sliding(size, rounds * 10)).map((ms) => (ms * 1000).toFixed(2));
  console.log(
    `  windowSize ${size}: sorting the window ${sorted.join(', ')} µs; SlidingPercentile ${kept.join(', ')} µs`,
  );
}
