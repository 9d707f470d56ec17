/**
 * The behavioural feature vector the page's script computes locally and sends once per page. Only these
 * aggregates ever leave the browser: no trajectory, no key codes, no text. The server checks every field
 * (finite numbers within bounds, known keys only); anything else is refused with `SIGNALS_INVALID`.
 */
import { GatewayError } from '../errors.ts';

export interface BehaviourVector {
  /** Pointer: samples, path length (px), straightness 0..1 (chord / path), mean and sd speed (px/ms), pauses > 300 ms. */
  pointer: { n: number; path: number; straightness: number; speed: number; speedSd: number; pauses: number };
  /** Keys where the person typed on our pages: count, mean and sd of key-down intervals (ms), mean hold (ms). */
  keys: { n: number; interval: number; intervalSd: number; hold: number };
  /** Device orientation on mobile: samples, sd of beta and gamma (degrees). */
  orientation: { n: number; betaSd: number; gammaSd: number };
  /** Time on the page before the choice (ms), and the timer resolution the browser gave (ms). */
  dwell: number;
  timerMs: number;
  /** Fingerprint dimensions the page can see and headers cannot. */
  timeZone: string;
  screen: string;
  platform: string;
}

const GROUPS = {
  pointer: ['n', 'path', 'straightness', 'speed', 'speedSd', 'pauses'],
  keys: ['n', 'interval', 'intervalSd', 'hold'],
  orientation: ['n', 'betaSd', 'gammaSd'],
} as const;

function num(value: unknown, where: string, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max)
    throw new GatewayError('SIGNALS_INVALID', 400, 'invalid behavioural signals', { detail: where });
  return value;
}

function str(value: unknown, where: string, pattern: RegExp): string {
  if (typeof value !== 'string' || !pattern.test(value))
    throw new GatewayError('SIGNALS_INVALID', 400, 'invalid behavioural signals', { detail: where });
  return value;
}

/**
 * Validates a vector received from the side channel.
 *
 * @example
 * parseVector(JSON.parse(body)) // BehaviourVector, or throws SIGNALS_INVALID
 */
export function parseVector(raw: unknown): BehaviourVector {
  if (typeof raw !== 'object' || raw === null)
    throw new GatewayError('SIGNALS_INVALID', 400, 'invalid behavioural signals', { detail: 'not an object' });
  const o = raw as Record<string, unknown>;
  const allowed = new Set([...Object.keys(GROUPS), 'dwell', 'timerMs', 'timeZone', 'screen', 'platform']);
  for (const key of Object.keys(o))
    if (!allowed.has(key))
      throw new GatewayError('SIGNALS_INVALID', 400, 'invalid behavioural signals', { detail: `unknown ${key}` });
  const group = <K extends keyof typeof GROUPS>(name: K) => {
    const g = o[name];
    if (typeof g !== 'object' || g === null)
      throw new GatewayError('SIGNALS_INVALID', 400, 'invalid behavioural signals', { detail: name });
    return Object.fromEntries(
      GROUPS[name].map((k) => [k, num((g as Record<string, unknown>)[k], `${name}.${k}`, 1e7)]),
    );
  };
  return {
    pointer: group('pointer') as BehaviourVector['pointer'],
    keys: group('keys') as BehaviourVector['keys'],
    orientation: group('orientation') as BehaviourVector['orientation'],
    dwell: num(o.dwell, 'dwell', 3.6e6),
    timerMs: num(o.timerMs, 'timerMs', 1000),
    timeZone: str(o.timeZone, 'timeZone', /^[A-Za-z0-9_+\-/]{1,64}$/),
    screen: str(o.screen, 'screen', /^\d{1,5}x\d{1,5}$/),
    platform: str(o.platform, 'platform', /^[\w .()-]{0,64}$/),
  };
}

/** The numeric features compared with a person's profile (Manhattan, scaled). */
export function numericFeatures(v: BehaviourVector): Record<string, number> {
  return {
    straightness: v.pointer.straightness,
    speed: v.pointer.speed,
    speedSd: v.pointer.speedSd,
    pauses: v.pointer.pauses,
    keyInterval: v.keys.interval,
    keyIntervalSd: v.keys.intervalSd,
    keyHold: v.keys.hold,
    dwell: Math.log1p(v.dwell),
  };
}
