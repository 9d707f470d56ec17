/**
 * The risk pipeline's p99 (`overload.ts`) is kept by `SlidingPercentile` without sorting the window at every
 * sample: it must answer exactly what sorting the window answers (nearest rank), whatever the order of values,
 * their repeats, and whether samples leave the window by count or by age.
 */
import test from 'ava';
import { SlidingPercentile } from '../../gateway/risk/sliding-percentile.ts';

/** The reference: the window as an array, sorted at every question. */
function naive(window: Array<{ at: number; value: number }>, q: number): number {
  if (window.length === 0) return 0;
  const sorted = window.map((s) => s.value).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))]!;
}

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const [capacity, distinct, maxAge] of [
  [1, 5, Infinity],
  [7, 3, Infinity],
  [100, 1000, 50],
  [1000, 20, 400],
  [1000, 1e6, Infinity],
] as const) {
  test(`answers as sorting the window does (window ${capacity}, ${distinct} distinct values, age ≤ ${maxAge})`, (t) => {
    const next = random(capacity * 31 + distinct);
    const kept = new SlidingPercentile(capacity);
    let window: Array<{ at: number; value: number }> = [];
    for (let at = 0; at < 5000; at += 1) {
      const value = Math.floor(next() * distinct) / 10;
      kept.add(at, value);
      window.push({ at, value });
      if (window.length > capacity) window.shift();
      if (Number.isFinite(maxAge)) {
        kept.dropBefore(at - maxAge);
        window = window.filter((s) => s.at >= at - maxAge);
      }
      for (const q of [0.5, 0.99, 1]) {
        if (kept.quantile(q) !== naive(window, q)) {
          t.fail(`sample ${at}, q ${q}: ${kept.quantile(q)}, sorting says ${naive(window, q)}`);
          return;
        }
      }
      t.is(kept.size, window.length);
      if (at === 2500) {
        kept.clear();
        window = [];
      }
    }
    t.pass();
  });
}

test('an empty window answers 0; a sample that is not a number is refused', (t) => {
  const kept = new SlidingPercentile(10);
  t.is(kept.quantile(0.99), 0);
  t.throws(() => kept.add(1, Number.NaN), { instanceOf: RangeError });
  t.throws(() => new SlidingPercentile(0), { instanceOf: RangeError });
});
