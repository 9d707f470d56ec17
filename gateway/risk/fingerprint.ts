/**
 * Device fingerprint dimensions of a login, from the request headers and (when the behavioural script ran)
 * from what the page reported. Minimised at the source: a coarse browser family and major version, OS
 * family, device type, the first two languages, time zone, a screen-size bucket, the platform string.
 * Stores keep only keyed hashes of these values (`hashValue`).
 */
import { createHmac } from 'node:crypto';
import type { Fingerprint } from './types.ts';

const BROWSERS: ReadonlyArray<[RegExp, string]> = [
  [/Edg\/(\d+)/, 'Edge'],
  [/OPR\/(\d+)/, 'Opera'],
  [/Firefox\/(\d+)/, 'Firefox'],
  [/Chrome\/(\d+)/, 'Chrome'],
  [/Version\/(\d+).*Safari/, 'Safari'],
  [/node|undici/i, 'node'],
];
const SYSTEMS: ReadonlyArray<[RegExp, string]> = [
  [/Windows NT/, 'Windows'],
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Mac OS X/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

/** Browser family and major version, OS family and device type from a User-Agent string. */
export function parseUserAgent(ua: string): { uaFamily: string; os: string; deviceType: string } {
  let uaFamily = 'other';
  for (const [re, name] of BROWSERS) {
    const m = re.exec(ua);
    if (m) {
      uaFamily = m[1] ? `${name} ${m[1]}` : name;
      break;
    }
  }
  const os = SYSTEMS.find(([re]) => re.test(ua))?.[1] ?? 'other';
  const deviceType = /bot|crawl|spider|headless/i.test(ua)
    ? 'bot'
    : /iPad|Tablet/.test(ua)
      ? 'tablet'
      : /Mobi|Android|iPhone/.test(ua)
        ? 'mobile'
        : ua
          ? 'desktop'
          : 'unknown';
  return { uaFamily, os, deviceType };
}

/** What the page's script reported (already validated by the side channel). */
export interface ReportedDevice {
  timeZone?: string;
  screen?: string;
  platform?: string;
}

/**
 * The fingerprint of a request.
 *
 * @example
 * fingerprintOf('Mozilla/5.0 (X11; Linux x86_64) ... Firefox/128.0', 'fr-FR,fr;q=0.9,en;q=0.8', { timeZone: 'Europe/Paris' })
 * // { uaFamily: 'Firefox 128', os: 'Linux', deviceType: 'desktop', languages: 'fr-fr,fr', timeZone: 'Europe/Paris', ... }
 */
export function fingerprintOf(userAgent: string, acceptLanguage: string, reported: ReportedDevice = {}): Fingerprint {
  const languages = acceptLanguage
    .split(',')
    .map((part) => part.split(';')[0]!.trim().toLowerCase())
    .filter(Boolean)
    .slice(0, 2)
    .join(',');
  return {
    ...parseUserAgent(userAgent),
    languages: languages || 'none',
    timeZone: reported.timeZone ?? 'unknown',
    screen: reported.screen ?? 'unknown',
    platform: reported.platform ?? 'unknown',
  };
}

/** Keyed hash of a feature value (16 bytes, base64url): the stores never hold the value itself. */
export function hashValue(key: string, feature: string, value: string): string {
  return createHmac('sha256', key).update(`${feature}\u0000${value}`).digest('base64url').slice(0, 22);
}
