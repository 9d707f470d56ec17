/**
 * `rateLimit.adaptive` (issue #15): load thresholds that lower the rates of this process, checked every
 * `checkIntervalMs`, lifted when every signal stayed below its threshold for `recoverAfterMs`:
 *
 * - `enabled` (default true);
 * - `checkIntervalMs` (default 60,000) and `recoverAfterMs` (default 120,000): the product brief's periods;
 * - `eventLoopLagMs` (default 200): p99 of the event loop's delay over the last period;
 * - `cpuPercent` (default 80): this process's CPU time over the period, in % of one core;
 * - `memoryPercent` (default 85): the V8 heap in use, in % of its limit;
 * - `factor` (default 0.5): each level of overload multiplies the rates by it — new logins (authorize,
 *   chooser) from the first level, logins already in flight (ACS, token, WebAuthn) one level later;
 * - `minFactor` (default 0.1): the rates are never lowered below this share.
 */
import { ConfigError } from '../errors.ts';
import { boolean, integer, join, object, onlyKeys, type Obj } from './check.ts';

export interface AdaptiveConfig {
  enabled: boolean;
  checkIntervalMs: number;
  recoverAfterMs: number;
  eventLoopLagMs: number;
  cpuPercent: number;
  memoryPercent: number;
  factor: number;
  minFactor: number;
}

function fraction(obj: Obj, key: string, at: string, fallback: number): number {
  const value = obj[key] ?? fallback;
  if (typeof value !== 'number' || !(value > 0 && value < 1))
    throw new ConfigError(join(at, key), 'must be a number between 0 and 1 (exclusive)');
  return value;
}

/**
 * @example
 * parseAdaptive({ checkIntervalMs: 100, eventLoopLagMs: 20 }, 'rateLimit.adaptive')
 */
export function parseAdaptive(raw: unknown, at: string): AdaptiveConfig {
  const obj = object(raw ?? {}, at);
  onlyKeys(obj, at, [
    'enabled',
    'checkIntervalMs',
    'recoverAfterMs',
    'eventLoopLagMs',
    'cpuPercent',
    'memoryPercent',
    'factor',
    'minFactor',
  ]);
  const factor = fraction(obj, 'factor', at, 0.5);
  const minFactor = fraction(obj, 'minFactor', at, 0.1);
  if (minFactor > factor) throw new ConfigError(join(at, 'minFactor'), `must be ≤ factor (${factor})`);
  return {
    enabled: boolean(obj, 'enabled', at, true),
    checkIntervalMs: integer(obj, 'checkIntervalMs', at, { default: 60_000, min: 10, max: 3_600_000 }),
    recoverAfterMs: integer(obj, 'recoverAfterMs', at, { default: 120_000, min: 0, max: 86_400_000 }),
    eventLoopLagMs: integer(obj, 'eventLoopLagMs', at, { default: 200, min: 1, max: 60_000 }),
    cpuPercent: integer(obj, 'cpuPercent', at, { default: 80, min: 1, max: 1000 }),
    memoryPercent: integer(obj, 'memoryPercent', at, { default: 85, min: 1, max: 100 }),
    factor,
    minFactor,
  };
}
