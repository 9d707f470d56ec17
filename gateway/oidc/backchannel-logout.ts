/**
 * OpenID Connect Back-Channel Logout 1.0 (issue #12 item 6): every RP of a session that registered a
 * `backchannel_logout_uri` is told when the session ends — on RP-initiated logout (oidc-provider's
 * end_session, `features.backchannelLogout`) and on every revocation (`session/revocation.ts` listeners:
 * operator, fraud verdict, refresh-token reuse, refresh policy).
 *
 * - the logout token is oidc-provider's (`typ` JWT, `events` back-channel-logout, `jti`, pairwise `sub`,
 *   `sid` when the RP requires it), signed in the HSM like every ID token (`HsmSigningKey`);
 * - delivery: each attempt bounded by oidc-provider's `httpOptions` timeout (2.5 s), up to
 *   `ATTEMPTS` attempts with exponential backoff (`BACKOFF_MS` × 2ⁿ); only 200/204 is success;
 * - the outcome of each delivery (delivered / failed, attempts) is audited (`BACKCHANNEL_LOGOUT_DELIVERED`,
 *   `BACKCHANNEL_LOGOUT_FAILED`) and counted: `gateway_backchannel_logout_total{client,outcome}`.
 */
import type Provider from 'oidc-provider';
import type { Registry } from 'prom-client';
import type { AuditLog } from '../audit/audit-log.ts';
import { declareCounter } from '../observability/metrics.ts';
import { InFlight } from './in-flight.ts';

export const ATTEMPTS = 3;
export const BACKOFF_MS = 200;

type Deliver = (sub: string, sid: string) => Promise<void>;
type ClientWithLogout = { clientId: string; backchannelLogoutUri?: string; backchannelLogout: Deliver };

export interface BackchannelDeps {
  audit: Pick<AuditLog, 'append'>;
  registry: Registry;
  /** Waits between attempts (tests may shorten nothing: the real backoff is small). */
  sleep?: (ms: number) => Promise<void>;
  /** Where deliveries under way are tracked (the gateway's one registry, drained at close). */
  inFlight?: InFlight;
}

export class BackchannelLogout {
  readonly #audit: Pick<AuditLog, 'append'>;
  readonly #count: (client: string, outcome: 'delivered' | 'failed') => void;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #inFlight: InFlight;

  constructor(deps: BackchannelDeps) {
    this.#audit = deps.audit;
    this.#inFlight = deps.inFlight ?? new InFlight();
    const counter = declareCounter(
      deps.registry,
      'gateway_backchannel_logout_total',
      'Back-channel logout deliveries by client and outcome.',
      ['client', 'outcome'],
    );
    this.#count = (client, outcome) => {
      counter.inc({ client, outcome });
    };
    this.#sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Wraps `Client#backchannelLogout` of a provider generation with retries, audit and metrics. */
  install(provider: Provider): void {
    const prototype = provider.Client.prototype as unknown as ClientWithLogout;
    const once = prototype.backchannelLogout;
    const deliver = (clientId: string, sid: string, attempt: () => Promise<void>) =>
      this.#deliver(clientId, sid, attempt);
    prototype.backchannelLogout = async function withRetries(this: ClientWithLogout, sub: string, sid: string) {
      await deliver(this.clientId, sid, () => once.call(this, sub, sid));
    };
  }

  /** Tells every RP of an ended session that registered a back-channel URI (after a revocation). */
  sessionEnded(provider: Provider, session: { accountId?: unknown; authorizations?: unknown }): Promise<void> {
    return this.#inFlight.track(this.#tellEnded(provider, session));
  }

  async #tellEnded(provider: Provider, session: { accountId?: unknown; authorizations?: unknown }): Promise<void> {
    if (
      typeof session.accountId !== 'string' ||
      typeof session.authorizations !== 'object' ||
      session.authorizations === null
    )
      return;
    const accountId = session.accountId;
    await Promise.all(
      Object.entries(session.authorizations as Record<string, { sid?: unknown }>).map(
        async ([clientId, authorization]) => {
          if (typeof authorization.sid !== 'string') return;
          const client = (await provider.Client.find(clientId)) as unknown as ClientWithLogout | undefined;
          if (!client?.backchannelLogoutUri) return;
          // the wrapped method: retries, audit, metrics; a failure is recorded there, never thrown at the revoker
          await client.backchannelLogout(accountId, authorization.sid).catch(() => undefined);
        },
      ),
    );
  }

  #deliver(clientId: string, sid: string, attempt: () => Promise<void>): Promise<void> {
    return this.#inFlight.track(this.#attempts(clientId, sid, attempt));
  }

  async #attempts(clientId: string, sid: string, attempt: () => Promise<void>): Promise<void> {
    let lastError = '';
    for (let n = 1; n <= ATTEMPTS; n += 1) {
      try {
        await attempt();
      } catch (error) {
        lastError = error instanceof Error ? error.message.slice(0, 200) : 'unknown';
        if (n < ATTEMPTS) await this.#sleep(BACKOFF_MS * 2 ** (n - 1));
        continue;
      }
      // delivered: audited outside the attempts (an audit that fails sends the RP no second logout token)
      this.#count(clientId, 'delivered');
      await this.#audit.append({
        sessionId: `logout:${sid.slice(0, 32)}`,
        from: null,
        to: 'BACKCHANNEL_LOGOUT_DELIVERED',
        component: 'oidc',
        details: { clientId, attempts: n },
      });
      return;
    }
    this.#count(clientId, 'failed');
    await this.#audit.append({
      sessionId: `logout:${sid.slice(0, 32)}`,
      from: null,
      to: 'BACKCHANNEL_LOGOUT_FAILED',
      component: 'oidc',
      errorCode: 'BACKCHANNEL_LOGOUT_FAILED',
      details: { clientId, attempts: ATTEMPTS, error: lastError },
    });
    throw new Error(`back-channel logout to ${clientId} failed after ${ATTEMPTS} attempts`);
  }
}
