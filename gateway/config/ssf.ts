/**
 * A relying party's Shared Signals receiver (`clients[].ssf`, issue #12 item 7): where the gateway pushes
 * CAEP Security Event Tokens (RFC 8417, delivered per RFC 8935) and which events the RP wants.
 *
 * ```json
 * "ssf": { "endpoint": "https://rp.example/caep", "events": [
 *   "https://schemas.openid.net/secevent/caep/event-type/session-revoked",
 *   "https://schemas.openid.net/secevent/caep/event-type/assurance-level-change" ] }
 * ```
 *
 * - `endpoint`: absolute, https (http only on a loopback host, for development and tests), no fragment;
 * - `events`: a non-empty list of the event-type URIs the gateway transmits ({@link SSF_EVENTS}), no
 *   duplicates; an unknown URI is an error naming its index;
 * - no other key.
 */
import { ConfigError } from '../errors.ts';
import { join, object, onlyKeys, url } from './check.ts';

export const CAEP_SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const CAEP_ASSURANCE_LEVEL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/assurance-level-change';
/** The event types this transmitter sends (also listed in `/.well-known/ssf-configuration`). */
export const SSF_EVENTS = [CAEP_SESSION_REVOKED, CAEP_ASSURANCE_LEVEL_CHANGE] as const;
export type SsfEvent = (typeof SSF_EVENTS)[number];

export interface SsfReceiver {
  endpoint: string;
  events: SsfEvent[];
}

/**
 * @example
 * parseSsf({ endpoint: 'https://rp.example/caep', events: [CAEP_SESSION_REVOKED] }, 'clients[0].ssf')
 */
export function parseSsf(raw: unknown, at: string): SsfReceiver {
  const ssf = object(raw, at);
  onlyKeys(ssf, at, ['endpoint', 'events']);
  if (ssf.endpoint === undefined) throw new ConfigError(join(at, 'endpoint'), 'is required');
  const endpoint = url(ssf.endpoint, join(at, 'endpoint'));
  if (!Array.isArray(ssf.events) || ssf.events.length === 0)
    throw new ConfigError(join(at, 'events'), `must be a non-empty array of ${SSF_EVENTS.join(', ')}`);
  const events: SsfEvent[] = [];
  ssf.events.forEach((event: unknown, i) => {
    if (typeof event !== 'string' || !(SSF_EVENTS as readonly string[]).includes(event))
      throw new ConfigError(join(join(at, 'events'), i), `must be one of ${SSF_EVENTS.join(', ')}`);
    if (events.includes(event as SsfEvent)) throw new ConfigError(join(join(at, 'events'), i), `duplicate ${event}`);
    events.push(event as SsfEvent);
  });
  return { endpoint, events };
}
