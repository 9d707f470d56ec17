/**
 * The Shared Signals transmitter (issue #12 item 7): tells every RP of a session that registered a receiver
 * (`clients[].ssf`) what happened to it, as CAEP 1.0 events in SETs (`security-event-token.ts`) pushed per
 * RFC 8935 (`push-delivery.ts`).
 *
 * | event                    | when                                                              | `initiating_entity` |
 * |--------------------------|-------------------------------------------------------------------|---------------------|
 * | `session-revoked`        | RP-initiated logout that ends the gateway session (`end_session`) | `user`              |
 * |                          | every revocation of the revocation API (`session/revocation.ts`): operator (admin API, CLI) | `admin` |
 * |                          | late fraud verdict, refresh policy                                | `policy`            |
 * |                          | refresh-token reuse, anything else                                | `system`            |
 * | `assurance-level-change` | a new login in the same gateway session, by the same person, ends at another `acr` (a step-up to a higher `acr` an RP asked for; or lower) | `user` |
 *
 * - one SET per RP of the session that asked for that event, each with that RP's subject (its pairwise
 *   `sub`, its `sid`) and its own `txn` (one shared by the RPs would link their pairwise subjects); signed with the key oidc-provider signs that RP's ID tokens
 *   with (its `id_token_signed_response_alg`, active in the HSM);
 * - assurance levels: `namespace` `"eIDAS"` (a CAEP custom namespace) with the gateway's `acr` values
 *   (`eidas1` < `eidas2` < `eidas3`, as in the RP's ID tokens), `previous_level`, `change_direction`;
 * - the reason an operator typed is not sent (it may name things the RP has no business knowing);
 * - delivery failures are audited and counted there, never thrown back at a revocation or a login.
 */
import { randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { KeyStore } from '../../../hsm/signer.ts';
import { CAEP_ASSURANCE_LEVEL_CHANGE, CAEP_SESSION_REVOKED, type SsfReceiver } from '../../config/ssf.ts';
import { acrRank } from '../../translate/acr.ts';
import { pairwiseSub } from '../pairwise.ts';
import type { PushDelivery } from './push-delivery.ts';
import { signSecurityEvent, type RpSubject } from './security-event-token.ts';
import type { InFlight } from '../in-flight.ts';

export type InitiatingEntity = 'admin' | 'user' | 'policy' | 'system';

/** What the transmitter reads of an oidc-provider Session (payload or instance). */
export interface SessionView {
  accountId?: unknown;
  authorizations?: unknown;
}

type ProviderClient = { clientId: string; sectorIdentifier?: string; idTokenSignedResponseAlg?: string };

/** Who started a revocation, from the revocation API's `actor` (`operator:<name>`, `cli:<user>`, `fraud`, …). */
export function initiatingEntityOf(actor: string): InitiatingEntity {
  if (actor.startsWith('operator:') || actor.startsWith('cli:')) return 'admin';
  if (actor === 'person') return 'user';
  if (actor === 'fraud' || actor === 'refresh-policy') return 'policy';
  return 'system';
}

export class SignalTransmitter {
  readonly #issuer: string;
  readonly #receivers: ReadonlyMap<string, SsfReceiver>;
  readonly #keys: KeyStore;
  readonly #salt: string;
  readonly #delivery: PushDelivery;
  readonly #inFlight: InFlight | undefined;

  constructor(deps: {
    issuer: string;
    clients: ReadonlyArray<{ client_id: string; ssf?: SsfReceiver }>;
    keys: KeyStore;
    pairwiseSalt: string;
    delivery: PushDelivery;
    /** Where events under way are tracked from their first read to their audit (drained at the gateway's close). */
    inFlight?: InFlight;
  }) {
    this.#issuer = deps.issuer;
    this.#receivers = new Map(deps.clients.flatMap((c) => (c.ssf ? [[c.client_id, c.ssf] as const] : [])));
    this.#keys = deps.keys;
    this.#salt = deps.pairwiseSalt;
    this.#delivery = deps.delivery;
    this.#inFlight = deps.inFlight;
  }

  /** Whether any RP registered a receiver (nothing to do otherwise). */
  get enabled(): boolean {
    return this.#receivers.size > 0;
  }

  /** CAEP session-revoked to every RP of an ended session that asked for it. */
  sessionRevoked(provider: Provider, session: SessionView, by: InitiatingEntity, at = new Date()): Promise<void> {
    return this.#emit(provider, session, CAEP_SESSION_REVOKED, {
      initiating_entity: by,
      event_timestamp: Math.floor(at.getTime() / 1000),
    });
  }

  /** CAEP assurance-level-change to every RP of the session that asked for it. */
  assuranceChanged(
    provider: Provider,
    session: SessionView,
    previous: string,
    current: string,
    at = new Date(),
  ): Promise<void> {
    return this.#emit(provider, session, CAEP_ASSURANCE_LEVEL_CHANGE, {
      namespace: 'eIDAS',
      current_level: current,
      previous_level: previous,
      change_direction: acrRank(current) > acrRank(previous) ? 'increase' : 'decrease',
      initiating_entity: 'user',
      event_timestamp: Math.floor(at.getTime() / 1000),
    });
  }

  /**
   * Hooks one provider generation: RP-initiated logout that ends the session (`end_session.success` with
   * the session destroyed), and a login in an existing session that changes its `acr`
   * (`Session#loginAccount`, the one place oidc-provider sets it).
   */
  install(provider: Provider, onError: (err: unknown) => void): void {
    if (!this.enabled) return;
    provider.on('end_session.success', (ctx: { oidc?: { session?: SessionView & { destroyed?: boolean } } }) => {
      const session = ctx.oidc?.session;
      if (!session?.destroyed) return;
      const ended = { accountId: session.accountId, authorizations: structuredClone(session.authorizations) };
      this.sessionRevoked(provider, ended, 'user').catch(onError);
    });
    type WithLogin = SessionView & { acr?: unknown; loginAccount(details: unknown): void };
    const prototype = provider.Session.prototype as unknown as WithLogin;
    const loginAccount = prototype.loginAccount;
    const changed = (session: SessionView, previous: string, current: string) =>
      this.assuranceChanged(provider, session, previous, current).catch(onError);
    prototype.loginAccount = function loginAccountTold(this: WithLogin, details: unknown) {
      const before = { accountId: this.accountId, acr: this.acr };
      loginAccount.call(this, details);
      if (
        typeof before.accountId === 'string' &&
        before.accountId === this.accountId &&
        typeof before.acr === 'string' &&
        typeof this.acr === 'string' &&
        before.acr !== this.acr
      )
        void changed(
          { accountId: this.accountId, authorizations: structuredClone(this.authorizations) },
          before.acr,
          this.acr,
        );
    };
  }

  #emit(provider: Provider, session: SessionView, event: string, payload: Record<string, unknown>): Promise<void> {
    const emitting = this.#emitNow(provider, session, event, payload);
    return this.#inFlight ? this.#inFlight.track(emitting) : emitting;
  }

  async #emitNow(provider: Provider, session: SessionView, event: string, payload: Record<string, unknown>) {
    if (!this.enabled || typeof session.accountId !== 'string') return;
    if (typeof session.authorizations !== 'object' || session.authorizations === null) return;
    const accountId = session.accountId;
    await Promise.all(
      Object.entries(session.authorizations as Record<string, { sid?: unknown }>).map(async ([clientId, a]) => {
        const receiver = this.#receivers.get(clientId);
        if (!receiver || !receiver.events.includes(event as SsfReceiver['events'][number])) return;
        const client = (await provider.Client.find(clientId)) as unknown as ProviderClient | undefined;
        if (!client) return;
        const subject: RpSubject = {
          format: 'complex',
          user: {
            format: 'iss_sub',
            iss: this.#issuer,
            sub: pairwiseSub(accountId, String(client.sectorIdentifier ?? client.clientId), this.#salt),
          },
          ...(typeof a.sid === 'string' ? { session: { format: 'opaque' as const, id: a.sid } } : {}),
        };
        const signer =
          this.#keys.activeSigners('id_token').find((s) => s.alg === client.idTokenSignedResponseAlg) ??
          this.#keys.activeSigner('id_token');
        const { jwt, jti } = await signSecurityEvent(signer, {
          issuer: this.#issuer,
          audience: clientId,
          // one per RP: a txn shared by the SETs of one occurrence let two RPs join their pairwise subjects on it
          txn: randomBytes(16).toString('base64url'),
          subject,
          event,
          payload,
        });
        await this.#delivery.deliver({ clientId, endpoint: receiver.endpoint, event, jti, jwt });
      }),
    );
  }
}
