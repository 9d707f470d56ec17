/**
 * The export noise is Laplace with scale b = Δ₁/ε = 1/0.1 = 10, tested statistically on 40,000 draws
 * (thresholds at about 5 standard errors, so a correct sampler fails less than once in a million runs):
 * mean 0, variance 2b² = 200, P(|X| > b) = e⁻¹, and a Kolmogorov–Smirnov distance to the Laplace CDF
 * below the 0.1 % critical value 1.95/√n.
 */
import test from 'ava';
import { EPSILON, LAPLACE_SCALE, laplace } from '../../gateway/risk/dp-export.ts';

const N = 40_000;
const draws = Array.from({ length: N }, () => laplace());

test('ε = 0.1 with sensitivity 1 gives scale 10', (t) => {
  t.is(EPSILON, 0.1);
  t.is(LAPLACE_SCALE, 10);
});

test('mean 0 and variance 2b²', (t) => {
  const mean = draws.reduce((a, b) => a + b, 0) / N;
  const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / (N - 1);
  t.true(Math.abs(mean) < 5 * Math.sqrt(200 / N), `mean ${mean}`);
  // var of the sample variance for Laplace: (μ4 − σ⁴)/n with μ4 = 24b⁴ → sd ≈ √(20·b⁴/n)
  t.true(Math.abs(variance - 200) < 5 * Math.sqrt((20 * 10 ** 4) / N), `variance ${variance}`);
});

test('P(|X| > b) = 1/e', (t) => {
  const share = draws.filter((x) => Math.abs(x) > 10).length / N;
  const p = Math.exp(-1);
  t.true(Math.abs(share - p) < 5 * Math.sqrt((p * (1 - p)) / N), `share ${share}`);
});

test('Kolmogorov–Smirnov distance to Laplace(0, 10) below the 0.1 % critical value', (t) => {
  const sorted = [...draws].sort((a, b) => a - b);
  const cdf = (x: number) => (x < 0 ? 0.5 * Math.exp(x / 10) : 1 - 0.5 * Math.exp(-x / 10));
  let d = 0;
  sorted.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, Math.abs(f - i / N), Math.abs((i + 1) / N - f));
  });
  t.true(d < 1.95 / Math.sqrt(N), `D = ${d}`);
});
