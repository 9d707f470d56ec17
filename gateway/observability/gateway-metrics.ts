/**
 * The gateway's own metrics, declared in one place (names, help, labels), on a `MetricsRegistry`:
 *
 * | metric                                         | type    | what                                              |
 * |------------------------------------------------|---------|---------------------------------------------------|
 * | gateway_logins_total{outcome}                  | counter | logins reaching completed / failed / denied / flagged |
 * | gateway_saml_rejections_total{code}            | counter | SAML responses refused at the ACS, by error code   |
 * | gateway_http_requests_total{method,route,status} | counter | requests, by route pattern (never a raw path)   |
 * | gateway_idp_metadata_events_total{idp,type}    | counter | metadata monitor events (refreshed, refresh_failed, availability) |
 * | gateway_idp_available{idp}                     | gauge   | 1 when the IdP can be chosen, 0 when unavailable or disabled |
 * | gateway_idp_metadata_valid_until_seconds{idp}  | gauge   | validUntil of the IdP metadata held (Unix seconds), when it has one |
 * | gateway_sp_metadata_valid_until_seconds        | gauge   | validUntil of our SP metadata served now (Unix seconds) |
 * | process_start_time_seconds                     | gauge   | when this process started (Unix seconds)           |
 *
 * The fraud pipeline's counters (`gateway_risk_stage_total`, `gateway_policy_decisions_total`, ...) live
 * in `risk/metrics.ts` and are included in the same exposition.
 */
import type { MetadataEvent } from '../../adapters/metadata/monitor.ts';
import { MetricsRegistry, type Counter, type Gauge } from './metrics.ts';

/** The login states counted as outcomes, and their label. */
const OUTCOMES: Readonly<Record<string, string>> = { COMPLETED: 'completed', FAILED: 'failed', DENIED: 'denied', FLAGGED: 'flagged' };
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export class GatewayMetrics {
  readonly registry: MetricsRegistry;
  readonly logins: Counter;
  readonly samlRejections: Counter;
  readonly httpRequests: Counter;
  readonly idpMetadataEvents: Counter;
  readonly #idpAvailable: Gauge;
  readonly #idpValidUntil: Gauge;

  constructor(registry = new MetricsRegistry()) {
    this.registry = registry;
    this.logins = registry.counter('gateway_logins_total', 'Logins that reached an outcome state (completed, failed, denied, flagged).', ['outcome']);
    this.samlRejections = registry.counter('gateway_saml_rejections_total', 'SAML responses refused at the ACS, by stable error code.', ['code']);
    this.httpRequests = registry.counter('gateway_http_requests_total', 'HTTP requests by method, route pattern and status.', ['method', 'route', 'status']);
    this.idpMetadataEvents = registry.counter('gateway_idp_metadata_events_total', 'IdP metadata monitor events by IdP and type.', ['idp', 'type']);
    this.#idpAvailable = registry.gauge('gateway_idp_available', 'Whether the IdP can be chosen (1) or is unavailable or disabled (0).', ['idp']);
    this.#idpValidUntil = registry.gauge('gateway_idp_metadata_valid_until_seconds', 'validUntil of the IdP metadata held, in Unix seconds (alarm before it passes).', ['idp']);
    registry.gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.').set({}, Math.round((Date.now() - performance.now()) / 1000));
  }

  /** Counts a login transition when its target state is an outcome (COMPLETED, FAILED, DENIED, FLAGGED). */
  transition(to: string): void {
    const outcome = OUTCOMES[to];
    if (outcome) this.logins.inc({ outcome });
  }

  /** Counts one SAML response refused at the ACS. */
  samlRejected(code: string): void {
    this.samlRejections.inc({ code });
  }

  /** Counts one HTTP request; `route` must be a bounded pattern (see `route-label.ts`). */
  httpRequest(method: string, route: string, status: number): void {
    this.httpRequests.inc({ method: METHODS.has(method) ? method : 'OTHER', route, status });
  }

  /** Counts one metadata monitor event (`availability` events are typed `availability_<state>`). */
  metadataEvent(event: MetadataEvent): void {
    const type = event.type === 'availability' ? `availability_${event.availability}` : event.type;
    this.idpMetadataEvents.inc({ idp: event.idp, type });
  }

  /** Mirrors the IdPs' availability into `gateway_idp_available` at each scrape. */
  watchIdps(status: () => ReadonlyArray<{ id: string; availability: string; validUntil?: string }>): void {
    this.registry.collect(() => {
      this.#idpAvailable.reset();
      this.#idpValidUntil.reset();
      for (const idp of status()) {
        this.#idpAvailable.set({ idp: idp.id }, idp.availability === 'available' ? 1 : 0);
        if (idp.validUntil !== undefined) this.#idpValidUntil.set({ idp: idp.id }, Math.floor(Date.parse(idp.validUntil) / 1000));
      }
    });
  }

  /** Mirrors our served SP metadata's validUntil into `gateway_sp_metadata_valid_until_seconds` at each scrape. */
  watchSpMetadata(validUntil: () => Date | undefined): void {
    const gauge = this.registry.gauge('gateway_sp_metadata_valid_until_seconds', 'validUntil of the SP metadata served now, in Unix seconds.');
    this.registry.collect(() => {
      gauge.reset();
      const at = validUntil();
      if (at) gauge.set({}, Math.floor(at.getTime() / 1000));
    });
  }
}
