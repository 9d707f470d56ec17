/**
 * Push delivery of Security Event Tokens (RFC 8935) to an RP's receiver, with retries, audit and metrics.
 *
 * - the request: `POST <endpoint>`, `Content-Type: application/secevent+jwt`, `Accept: application/json`,
 *   the SET as the body; each attempt bounded by `TIMEOUT_MS`, its answer read up to `ANSWER_MAX_BYTES`, never to
 *   a special-use address but a loopback one the operator registered, no redirect followed (guarded-post.ts);
 * - 202 Accepted is delivery (RFC 8935 §2.2); nothing else is;
 * - a 4xx answer is the receiver refusing this SET (RFC 8935 §2.3: 400 with `{ "err", "description" }`,
 *   e.g. `invalid_key`, `invalid_audience`; or 401/403): sending it again would not change that, so it is
 *   not retried; the receiver's `err` (a short token, never its free text) is audited;
 * - a network error, a timeout, a 5xx or a 429 is retried: up to `ATTEMPTS` attempts, `BACKOFF_MS` × 2ⁿ
 *   between them;
 * - each outcome is audited (`SSF_EVENT_DELIVERED`, or `SSF_EVENT_FAILED` with `SSF_EVENT_REJECTED` /
 *   `SSF_DELIVERY_FAILED`) and counted: `gateway_ssf_deliveries_total{client,event,outcome}` and
 *   `gateway_ssf_delivery_duration_seconds{outcome}` (from the first attempt to the outcome).
 * - a failed delivery never throws at the caller (a revocation does not fail because an RP is down).
 */
import type { Registry } from 'prom-client';
import type { AuditLog } from '../../audit/audit-log.ts';
import { declareCounter, declareHistogram } from '../../observability/metrics.ts';
import { guardedPost, type GuardedAnswer } from '../guarded-post.ts';
import { InFlight } from '../in-flight.ts';

export const ATTEMPTS = 3;
export const BACKOFF_MS = 200;
export const TIMEOUT_MS = 2_500;
/** How much of a receiver's answer is read: an RFC 8935 error object is a few dozen bytes. */
export const ANSWER_MAX_BYTES = 4_096;

export type DeliveryOutcome = 'delivered' | 'rejected' | 'failed';

export interface Delivery {
  clientId: string;
  endpoint: string;
  /** The event-type URI (its last path segment labels the metric). */
  event: string;
  jti: string;
  jwt: string;
}

/** What one attempt ended with: delivered, refused for good (with the receiver's `err`), or worth a retry. */
type Attempt =
  { kind: 'delivered' } | { kind: 'rejected'; status: number; err: string } | { kind: 'retry'; why: string };

const ERR = /^[a-z_]{1,64}$/;

async function attempt(delivery: Delivery): Promise<Attempt> {
  let answer: GuardedAnswer;
  try {
    answer = await guardedPost(
      delivery.endpoint,
      { 'content-type': 'application/secevent+jwt', accept: 'application/json' },
      delivery.jwt,
      { timeoutMs: TIMEOUT_MS, maxBytes: ANSWER_MAX_BYTES },
    );
  } catch (error) {
    return { kind: 'retry', why: error instanceof Error ? error.name : 'network' };
  }
  if (answer.status === 202) return { kind: 'delivered' };
  if (answer.status >= 400 && answer.status < 500 && answer.status !== 429) {
    let err = 'unspecified';
    try {
      const body = JSON.parse(answer.body) as { err?: unknown };
      if (typeof body.err === 'string' && ERR.test(body.err)) err = body.err;
    } catch {
      // not JSON, or longer than read: the status says enough
    }
    return { kind: 'rejected', status: answer.status, err };
  }
  return { kind: 'retry', why: `status ${answer.status}` };
}

export class PushDelivery {
  readonly #audit: Pick<AuditLog, 'append'>;
  readonly #count: (d: Delivery, outcome: DeliveryOutcome) => void;
  readonly #time: (outcome: DeliveryOutcome, seconds: number) => void;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #inFlight: InFlight;

  constructor(deps: {
    audit: Pick<AuditLog, 'append'>;
    registry: Registry;
    sleep?: (ms: number) => Promise<void>;
    /** Where pushes under way are tracked (the gateway's one registry, drained at close). */
    inFlight?: InFlight;
  }) {
    this.#audit = deps.audit;
    this.#inFlight = deps.inFlight ?? new InFlight();
    const counter = declareCounter(
      deps.registry,
      'gateway_ssf_deliveries_total',
      'Security Event Tokens pushed to RP receivers (RFC 8935), by client, event and outcome.',
      ['client', 'event', 'outcome'],
    );
    const histogram = declareHistogram(
      deps.registry,
      'gateway_ssf_delivery_duration_seconds',
      'From the first push attempt of a SET to its outcome.',
      ['outcome'],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    );
    this.#count = (d, outcome) => {
      counter.inc({ client: d.clientId, event: d.event.slice(d.event.lastIndexOf('/') + 1), outcome });
    };
    this.#time = (outcome, seconds) => {
      histogram.observe({ outcome }, seconds);
    };
    this.#sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Pushes one SET; resolves with the outcome once it is audited and counted. */
  deliver(delivery: Delivery): Promise<DeliveryOutcome> {
    return this.#inFlight.track(this.#push(delivery));
  }

  async #push(delivery: Delivery): Promise<DeliveryOutcome> {
    const started = performance.now();
    let last: Attempt = { kind: 'retry', why: 'not attempted' };
    let n = 0;
    while (n < ATTEMPTS) {
      n += 1;
      last = await attempt(delivery);
      if (last.kind !== 'retry') break;
      if (n < ATTEMPTS) await this.#sleep(BACKOFF_MS * 2 ** (n - 1));
    }
    const outcome: DeliveryOutcome =
      last.kind === 'delivered' ? 'delivered' : last.kind === 'rejected' ? 'rejected' : 'failed';
    this.#count(delivery, outcome);
    this.#time(outcome, (performance.now() - started) / 1000);
    const details = { clientId: delivery.clientId, event: delivery.event, jti: delivery.jti, attempts: n };
    await this.#audit.append({
      sessionId: `ssf:${delivery.jti}`,
      from: null,
      to: outcome === 'delivered' ? 'SSF_EVENT_DELIVERED' : 'SSF_EVENT_FAILED',
      component: 'oidc',
      ...(last.kind === 'rejected'
        ? { errorCode: 'SSF_EVENT_REJECTED', details: { ...details, status: last.status, err: last.err } }
        : last.kind === 'retry'
          ? { errorCode: 'SSF_DELIVERY_FAILED', details: { ...details, error: last.why } }
          : { details }),
    });
    return outcome;
  }
}
