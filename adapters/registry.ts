/**
 * The registry of upstream adapters the gateway serves: by id (chooser page, idp_hint), and by the
 * protocol issuer an inbound message names (a SAML entityID) so the ACS finds the one adapter
 * allowed to verify it. Unknown ids throw `ADAPTER_UNKNOWN`; duplicates throw at registration.
 */
import { AdapterError, type UpstreamAdapter } from './contract.ts';
import type { MetadataMonitor } from './metadata/monitor.ts';

export class AdapterRegistry {
  readonly #byId = new Map<string, UpstreamAdapter>();
  readonly #byIssuer = new Map<string, UpstreamAdapter>();
  /** The metadata monitor behind the SAML adapters, when the gateway runs one (status, refresh now). */
  monitor: MetadataMonitor | undefined;
  /** IdPs the gateway's registry has enabled that this instance left out at boot (unreadable or not fitting here). */
  leftOutEnabled: ReadonlySet<string> = new Set();

  /**
   * Adds an adapter; `issuer` is the entity its inbound messages name (SAML entityID, OIDC issuer).
   *
   * @example
   * registry.register(samlAdapter, { issuer: samlAdapter.entityId });
   */
  register(adapter: UpstreamAdapter, options: { issuer?: string } = {}): void {
    if (this.#byId.has(adapter.id))
      throw new AdapterError('ADAPTER_DUPLICATE', 'Adapter registered twice.', { detail: adapter.id });
    if (options.issuer !== undefined && options.issuer !== '' && this.#byIssuer.has(options.issuer)) {
      throw new AdapterError('ADAPTER_DUPLICATE', 'Issuer registered twice.', { detail: options.issuer });
    }
    this.#byId.set(adapter.id, adapter);
    if (options.issuer !== undefined && options.issuer !== '') this.#byIssuer.set(options.issuer, adapter);
  }

  /** The adapter with this id; throws `ADAPTER_UNKNOWN`. */
  get(id: string): UpstreamAdapter {
    const adapter = this.#byId.get(id);
    if (!adapter) throw new AdapterError('ADAPTER_UNKNOWN', 'Unknown identity provider.', { detail: id });
    return adapter;
  }

  /** The adapters a person may choose now (available: metadata valid, not disabled). */
  available(): UpstreamAdapter[] {
    return this.list().filter((adapter) => (adapter.availability?.() ?? 'available') === 'available');
  }

  /** Every registered adapter, in registration order. */
  list(): UpstreamAdapter[] {
    return [...this.#byId.values()];
  }

  /** The adapter answering for `issuer`, or undefined (the caller refuses the message). */
  byIssuer(issuer: string): UpstreamAdapter | undefined {
    return this.#byIssuer.get(issuer);
  }
}
