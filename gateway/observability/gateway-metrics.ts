/**
 * The gateway's own metrics, declared in one place (names, help, labels), on a prom-client registry:
 *
 * | metric                                                  | type      | what                                              |
 * |---------------------------------------------------------|-----------|---------------------------------------------------|
 * | gateway_logins_total{outcome}                           | counter   | logins reaching completed / failed / denied / flagged |
 * | gateway_login_duration_seconds{outcome}                 | histogram | a whole login, its start (authorize) to its outcome |
 * | gateway_saml_rejections_total{code}                     | counter   | SAML responses refused at the ACS, by error code   |
 * | gateway_http_requests_total{method,route,status}        | counter   | requests, by route pattern (never a raw path)      |
 * | gateway_http_request_duration_seconds{method,route}     | histogram | server time per route: `POST /saml/acs` is the ACS, `POST /token` the token endpoint |
 * | gateway_hsm_sign_duration_seconds{alg,mechanism,outcome}| histogram | one signature in the HSM, by algorithm and PKCS#11 mechanism |
 * | gateway_idp_metadata_events_total{idp,type}             | counter   | metadata monitor events (refreshed, refresh_failed, availability) |
 * | gateway_idp_available{idp}                              | gauge     | 1 when the IdP can be chosen, 0 when unavailable or disabled |
 * | gateway_idp_metadata_valid_until_seconds{idp}           | gauge     | validUntil of the IdP metadata held (Unix seconds), when it has one |
 * | gateway_sp_metadata_valid_until_seconds                 | gauge     | validUntil of our SP metadata served now (Unix seconds) |
 * | process_start_time_seconds, process_*, nodejs_*         | (default) | prom-client's default process metrics              |
 *
 * The fraud pipeline's metrics (`gateway_risk_stage_total`, `gateway_risk_stage_duration_seconds`,
 * `gateway_policy_decisions_total`, ...) are declared by `risk/metrics.ts` on the same registry.
 */
import { Gauge, type Counter, type Histogram, type Registry } from 'prom-client';
import type { MetadataEvent } from '../../adapters/metadata/monitor.ts';
import type { SignObservation } from '../../hsm/pkcs11-signer.ts';
import { declareCounter, declareHistogram, FAST_BUCKETS, REQUEST_BUCKETS } from './metrics.ts';

/** The login states counted as outcomes, and their label. */
const OUTCOMES: Readonly<Record<string, string>> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  DENIED: 'denied',
  FLAGGED: 'flagged',
};
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export class GatewayMetrics {
  readonly registry: Registry;
  readonly logins: Counter<'outcome'>;
  readonly loginDuration: Histogram<'outcome'>;
  readonly samlRejections: Counter<'code'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly hsmSignDuration: Histogram<'alg' | 'mechanism' | 'outcome'>;
  readonly idpMetadataEvents: Counter<'idp' | 'type'>;
  readonly idpAvailable: Gauge<'idp'>;
  readonly idpValidUntil: Gauge<'idp'>;
  readonly spValidUntil: Gauge;
  #idpStatus: () => ReadonlyArray<{ id: string; availability: string; validUntil?: string }> = () => [];
  #spValidUntil: () => Date | undefined = () => undefined;

  /**
   * @example
   * const metrics = new GatewayMetrics(newRegistry({ processMetrics: true }));
   */
  constructor(registry: Registry) {
    this.registry = registry;
    this.logins = declareCounter(
      registry,
      'gateway_logins_total',
      'Logins that reached an outcome state (completed, failed, denied, flagged).',
      ['outcome'],
    );
    this.loginDuration = declareHistogram(
      registry,
      'gateway_login_duration_seconds',
      'Whole logins, from their start at the authorization endpoint to their outcome state.',
      ['outcome'],
      REQUEST_BUCKETS,
    );
    this.samlRejections = declareCounter(
      registry,
      'gateway_saml_rejections_total',
      'SAML responses refused at the ACS, by stable error code.',
      ['code'],
    );
    this.httpRequests = declareCounter(
      registry,
      'gateway_http_requests_total',
      'HTTP requests by method, route pattern and status.',
      ['method', 'route', 'status'],
    );
    this.httpDuration = declareHistogram(
      registry,
      'gateway_http_request_duration_seconds',
      'Server time per request by method and route pattern (POST /saml/acs: the ACS; POST /token: the token endpoint).',
      ['method', 'route'],
      REQUEST_BUCKETS,
    );
    this.hsmSignDuration = declareHistogram(
      registry,
      'gateway_hsm_sign_duration_seconds',
      'Signatures made in the HSM, by algorithm, PKCS#11 mechanism and outcome (ok, error).',
      ['alg', 'mechanism', 'outcome'],
      FAST_BUCKETS,
    );
    this.idpMetadataEvents = declareCounter(
      registry,
      'gateway_idp_metadata_events_total',
      'IdP metadata monitor events by IdP and type.',
      ['idp', 'type'],
    );
    const status = () => this.#idpStatus();
    this.idpAvailable = new Gauge({
      name: 'gateway_idp_available',
      help: 'Whether the IdP can be chosen (1) or is unavailable or disabled (0).',
      labelNames: ['idp'],
      aggregator: 'max',
      registers: [registry],
      // mirrored at each scrape: prom-client calls collect before exposing the gauge
      collect(this: Gauge<'idp'>) {
        this.reset();
        for (const idp of status()) this.set({ idp: idp.id }, idp.availability === 'available' ? 1 : 0);
      },
    });
    this.idpValidUntil = new Gauge({
      name: 'gateway_idp_metadata_valid_until_seconds',
      help: 'validUntil of the IdP metadata held, in Unix seconds (alarm before it passes).',
      labelNames: ['idp'],
      aggregator: 'min',
      registers: [registry],
      collect(this: Gauge<'idp'>) {
        this.reset();
        for (const idp of status())
          if (idp.validUntil !== undefined) this.set({ idp: idp.id }, Math.floor(Date.parse(idp.validUntil) / 1000));
      },
    });
    const spValidUntil = () => this.#spValidUntil();
    this.spValidUntil = new Gauge({
      name: 'gateway_sp_metadata_valid_until_seconds',
      help: 'validUntil of the SP metadata served now, in Unix seconds.',
      aggregator: 'min',
      registers: [registry],
      collect(this: Gauge) {
        this.reset();
        const at = spValidUntil();
        if (at) this.set(Math.floor(at.getTime() / 1000));
      },
    });
  }

  /** Counts a login transition when its target state is an outcome (COMPLETED, FAILED, DENIED, FLAGGED). */
  transition(to: string): void {
    const outcome = OUTCOMES[to];
    if (outcome) this.logins.inc({ outcome });
  }

  /** Observes a whole login that reached an outcome state, `seconds` after it started. */
  loginEnded(to: string, seconds: number): void {
    const outcome = OUTCOMES[to];
    if (outcome && seconds >= 0) this.loginDuration.observe({ outcome }, seconds);
  }

  /** Counts one upstream answer refused at its `login-response` route (the metric keeps its published name). */
  upstreamRejected(code: string): void {
    this.samlRejections.inc({ code });
  }

  /** Counts one HTTP request and its server time; `route` must be a bounded pattern (see `route-label.ts`). */
  httpRequest(method: string, route: string, status: number, seconds?: number): void {
    const m = METHODS.has(method) ? method : 'OTHER';
    this.httpRequests.inc({ method: m, route, status });
    if (seconds !== undefined) this.httpDuration.observe({ method: m, route }, seconds);
  }

  /** Observes one signature made (or refused) by the HSM (the key store's `onSign`). */
  hsmSigned(observation: SignObservation): void {
    this.hsmSignDuration.observe(
      { alg: observation.alg, mechanism: observation.mechanism, outcome: observation.ok ? 'ok' : 'error' },
      observation.seconds,
    );
  }

  /** Counts one metadata monitor event (`availability` events are typed `availability_<state>`). */
  metadataEvent(event: MetadataEvent): void {
    const type = event.type === 'availability' ? `availability_${event.availability}` : event.type;
    this.idpMetadataEvents.inc({ idp: event.idp, type });
  }

  /** Mirrors the IdPs' availability and metadata validUntil into their gauges at each scrape. */
  watchIdps(status: () => ReadonlyArray<{ id: string; availability: string; validUntil?: string }>): void {
    this.#idpStatus = status;
  }

  /** Mirrors our served SP metadata's validUntil into `gateway_sp_metadata_valid_until_seconds` at each scrape. */
  watchSpMetadata(validUntil: () => Date | undefined): void {
    this.#spValidUntil = validUntil;
  }
}
