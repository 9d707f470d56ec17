/**
 * `risk.overload` (issue #15): when the risk pipeline is slow, the whole pipeline runs rule-only (every
 * stage's degraded mode, no normal path) until it is fast again (risk/overload.ts):
 *
 * - `enabled` (default true);
 * - `enterP99Ms` (default 500): the p99 of whole assessments, over the window, above which rule-only begins (with
 *   at least 3 samples above it, or `minSamples` if fewer);
 * - `exitP99Ms` (default 200) and `recoverAfterMs` (default 60,000): rule-only ends once fewer than 2 in 5 of the
 *   last 5 probes (or `minSamples` if fewer; at least one), however sparse, were at or above `exitP99Ms`, and
 *   stayed so for that long;
 * - `windowMs` (default 60,000) and `windowSize` (default 1,000): the window is the last `windowSize`
 *   assessments no older than `windowMs`; `minSamples` (default 20) are needed before any decision;
 * - `probeEvery` (default 10): in rule-only mode, one assessment in this many, and any a second or more after the
 *   last probe, still runs the normal path (bounded by the stages' budgets) to measure whether the engine recovered.
 */
import { ConfigError } from '../errors.ts';
import { boolean, integer, join, object, onlyKeys } from './check.ts';

export interface RiskOverloadConfig {
  enabled: boolean;
  enterP99Ms: number;
  exitP99Ms: number;
  recoverAfterMs: number;
  windowMs: number;
  windowSize: number;
  minSamples: number;
  probeEvery: number;
}

/**
 * @example
 * parseRiskOverload({ enterP99Ms: 400 }, 'risk.overload')
 */
export function parseRiskOverload(raw: unknown, at: string): RiskOverloadConfig {
  const obj = object(raw ?? {}, at);
  onlyKeys(obj, at, [
    'enabled',
    'enterP99Ms',
    'exitP99Ms',
    'recoverAfterMs',
    'windowMs',
    'windowSize',
    'minSamples',
    'probeEvery',
  ]);
  const enterP99Ms = integer(obj, 'enterP99Ms', at, { default: 500, min: 1, max: 600_000 });
  const exitP99Ms = integer(obj, 'exitP99Ms', at, { default: 200, min: 1, max: 600_000 });
  if (exitP99Ms >= enterP99Ms) throw new ConfigError(join(at, 'exitP99Ms'), `must be < enterP99Ms (${enterP99Ms})`);
  const windowSize = integer(obj, 'windowSize', at, { default: 1000, min: 1, max: 100_000 });
  const minSamples = integer(obj, 'minSamples', at, { default: 20, min: 1, max: 100_000 });
  if (minSamples > windowSize) throw new ConfigError(join(at, 'minSamples'), `must be ≤ windowSize (${windowSize})`);
  return {
    enabled: boolean(obj, 'enabled', at, true),
    enterP99Ms,
    exitP99Ms,
    recoverAfterMs: integer(obj, 'recoverAfterMs', at, { default: 60_000, min: 0, max: 86_400_000 }),
    windowMs: integer(obj, 'windowMs', at, { default: 60_000, min: 1, max: 86_400_000 }),
    windowSize,
    minSamples,
    probeEvery: integer(obj, 'probeEvery', at, { default: 10, min: 1, max: 100_000 }),
  };
}
