/**
 * The sector identifier documents of the clients that declare one (`clients[].sector_identifier_uri`):
 * checked at boot — a document that cannot be fetched or does not list every redirect URI stops the boot,
 * naming the client — and again every `sectorIdentifiers.refreshSeconds`.
 *
 * - On refresh, a document that no longer lists every redirect URI (or is no longer a JSON array) refuses
 *   that client's authorization requests (`SECTOR_IDENTIFIER_INVALID`, oidc/sector-gate.ts) until a later
 *   refresh finds it right again; each change is reported once (`onChange`: logged and audited in boot.ts),
 *   and `refresh()` resolves only once the report is written; a report that fails is logged as an error
 *   (`AUDIT_UNAVAILABLE`), never dropped in silence.
 * - A refresh that cannot reach the document keeps the last verdict (an RP's web server restarting must
 *   not stop its logins) and is logged as a warning with `SECTOR_IDENTIFIER_UNREACHABLE`.
 * - oidc-provider's own fetch of the document is turned off (provider.ts): it would run lazily on a first
 *   request, once per provider generation, with no refresh and no configurable trust.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ClientEntry } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import { checkSectorDocument } from './sector-document.ts';

export interface SectorChange {
  clientId: string;
  uri: string;
  /** `null`: the document is right again. */
  errorCode: 'SECTOR_IDENTIFIER_INVALID' | null;
  detail: string;
}

export class SectorIdentifiers {
  readonly #clients: readonly ClientEntry[];
  readonly #cas: readonly string[];
  readonly #logger: Logger;
  readonly #onChange: (change: SectorChange) => Promise<void>;
  readonly #refused = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  /** The refreshes under way (awaited by `stop`). */
  readonly #refreshing = new Set<Promise<void>>();
  #stopping = false;

  private constructor(
    clients: readonly ClientEntry[],
    cas: readonly string[],
    logger: Logger,
    onChange: (change: SectorChange) => Promise<void>,
  ) {
    this.#clients = clients.filter((c) => c.sector_identifier_uri !== undefined);
    this.#cas = cas;
    this.#logger = logger;
    this.#onChange = onChange;
  }

  /**
   * Checks every document (throws the first failure, naming the client) and starts the refresh timer.
   *
   * @example
   * const sectors = await SectorIdentifiers.start({ clients: config.clients, ...config.sectorIdentifiers, logger, onChange });
   */
  static async start(options: {
    clients: readonly ClientEntry[];
    caFiles: readonly string[];
    refreshSeconds: number;
    logger: Logger;
    /** Writes the change down (the audit log); awaited by `refresh()`. */
    onChange: (change: SectorChange) => Promise<void>;
  }): Promise<SectorIdentifiers> {
    const cas = options.caFiles.map((file) => readFileSync(file, 'utf8'));
    const sectors = new SectorIdentifiers(options.clients, cas, options.logger, options.onChange);
    for (const client of sectors.#clients) await sectors.#check(client);
    if (sectors.#clients.length > 0) {
      sectors.#timer = setInterval(() => void sectors.refresh(), options.refreshSeconds * 1000);
      sectors.#timer.unref();
    }
    return sectors;
  }

  #check(client: ClientEntry): Promise<void> {
    return checkSectorDocument({
      clientId: client.client_id,
      uri: client.sector_identifier_uri!,
      redirectUris: client.redirect_uris,
      extraCas: this.#cas,
    });
  }

  /** Checks every document again; never throws. */
  async refresh(): Promise<void> {
    const running = this.#refreshAll();
    this.#refreshing.add(running);
    try {
      await running;
    } finally {
      this.#refreshing.delete(running);
    }
  }

  async #refreshAll(): Promise<void> {
    for (const client of this.#clients) {
      if (this.#stopping) return; // a stopping gateway waits for the check under way, not for every client's
      const uri = client.sector_identifier_uri!;
      try {
        await this.#check(client);
        if (this.#refused.delete(client.client_id))
          await this.#report({
            clientId: client.client_id,
            uri,
            errorCode: null,
            detail: 'the document lists every redirect URI again',
          });
      } catch (error) {
        const known = error instanceof GatewayError ? error : undefined;
        if (known?.code === 'SECTOR_IDENTIFIER_INVALID') {
          if (!this.#refused.has(client.client_id)) {
            this.#refused.set(client.client_id, known.message);
            await this.#report({
              clientId: client.client_id,
              uri,
              errorCode: 'SECTOR_IDENTIFIER_INVALID',
              detail: known.message,
            });
          }
        } else {
          this.#logger.warn(
            {
              code: known?.code ?? 'SECTOR_IDENTIFIER_UNREACHABLE',
              client_id: client.client_id,
              detail: (error as Error).message,
            },
            'sector identifier refresh failed; last verdict kept',
          );
        }
      }
    }
  }

  /** Hands a change to `onChange` and waits for it; a failure is logged as an error, never thrown nor lost. */
  async #report(change: SectorChange): Promise<void> {
    try {
      await this.#onChange(change);
    } catch (error) {
      this.#logger.error(
        { err: error, code: 'AUDIT_UNAVAILABLE', client_id: change.clientId, change: change.errorCode ?? 'valid' },
        'sector identifier change not recorded',
      );
    }
  }

  /** Throws `SECTOR_IDENTIFIER_INVALID` when the client's document no longer lists its redirect URIs. */
  assertUsable(clientId: string): void {
    const why = this.#refused.get(clientId);
    if (why !== undefined) {
      throw new GatewayError(
        'SECTOR_IDENTIFIER_INVALID',
        403,
        'This service cannot use the sign-in right now; its registration is being checked.',
        { detail: why },
      );
    }
  }

  /** Stops the timer; resolves once a refresh under way (and the audit of what it found) is done. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all(this.#refreshing);
  }
}
