/**
 * The sector identifier documents of the clients that declare one (`clients[].sector_identifier_uri`):
 * checked at boot and again every `sectorIdentifiers.refreshSeconds`.
 *
 * - At boot, a document that cannot be fetched or does not list every redirect URI refuses that client only
 *   (`SECTOR_IDENTIFIER_UNREACHABLE` / `SECTOR_IDENTIFIER_INVALID`, logged as an error, audited once the audit log
 *   is up: {@link SectorIdentifiers.reportBootVerdicts}) until a refresh finds it right; one not reached is tried
 *   again after 30 s, doubling up to the refresh interval, and its refreshes are not refused meanwhile (no verdict). It stopped the boot: one
 *   RP's server down (or made to answer wrong, by the RP or whoever knocks it over) stopped every instance's start,
 *   and every cluster worker's restart, for every RP (attacker review, thirty-ninth round). The boot's log names
 *   each client refused.
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

/** The first retry of a document the boot could not reach (then doubling up to the refresh interval). */
export const UNREACHED_RETRY_FIRST_MS = 30_000;

/** Documents fetched at once: an RP whose server is slow holds up one check, not every other client's. */
export const CHECKS_AT_ONCE = 8;

export interface SectorChange {
  clientId: string;
  uri: string;
  /** `null`: the document is right again. `SECTOR_IDENTIFIER_UNREACHABLE`: at boot only (no verdict yet). */
  errorCode: 'SECTOR_IDENTIFIER_INVALID' | 'SECTOR_IDENTIFIER_UNREACHABLE' | null;
  detail: string;
}

export class SectorIdentifiers {
  readonly #clients: readonly ClientEntry[];
  readonly #cas: readonly string[];
  readonly #logger: Logger;
  readonly #onChange: (change: SectorChange) => Promise<void>;
  readonly #refused = new Map<string, string>();
  /** The clients the boot refused, reported once the audit log is up. */
  #atBoot: SectorChange[] = [];
  /** Refused at boot for a document not reached (no verdict yet): tried again soon, their refreshes not refused. */
  readonly #unreached = new Set<string>();
  #retryTimer: NodeJS.Timeout | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The refresh under way (awaited by `stop`). */
  #refreshing: Promise<void> | undefined;
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
   * Checks every document (a failure refuses its client, logged, never the boot) and starts the refresh timer.
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
    /** The first retry of a document the boot could not reach, ms (default {@link UNREACHED_RETRY_FIRST_MS}). */
    unreachedRetryMs?: number;
  }): Promise<SectorIdentifiers> {
    const cas = options.caFiles.map((file) => readFileSync(file, 'utf8'));
    const sectors = new SectorIdentifiers(options.clients, cas, options.logger, options.onChange);
    // checked a few at once, each within its deadline (sector-document.ts)
    const outcomes = await sectors.#eachClient((client) => sectors.#check(client));
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') continue;
      const client = sectors.#clients[i]!;
      const error = outcome.reason as Error;
      const code =
        error instanceof GatewayError && error.code === 'SECTOR_IDENTIFIER_INVALID'
          ? 'SECTOR_IDENTIFIER_INVALID'
          : 'SECTOR_IDENTIFIER_UNREACHABLE';
      sectors.#refused.set(client.client_id, error.message);
      if (code === 'SECTOR_IDENTIFIER_UNREACHABLE') sectors.#unreached.add(client.client_id);
      sectors.#atBoot.push({
        clientId: client.client_id,
        uri: client.sector_identifier_uri!,
        errorCode: code,
        detail: error.message,
      });
      options.logger.error(
        {
          code,
          client_id: client.client_id,
          sector_identifier_uri: client.sector_identifier_uri,
          detail: error.message,
        },
        'client refused until its sector identifier document checks: its logins are refused, every other client serves',
      );
    }
    sectors.#retryUnreached(options.unreachedRetryMs ?? UNREACHED_RETRY_FIRST_MS, options.refreshSeconds * 1000);
    if (sectors.#clients.length > 0) {
      sectors.#timer = setInterval(() => void sectors.refresh(), options.refreshSeconds * 1000);
      sectors.#timer.unref();
    }
    return sectors;
  }

  /**
   * The clients whose document the boot could not reach are tried again after `delayMs`, doubling up to the refresh
   * interval, until each is reached: an RP's server restarting while a gateway boots refuses its logins for seconds,
   * not for the hour until the next refresh.
   */
  #retryUnreached(delayMs: number, maxMs: number): void {
    if (this.#unreached.size === 0 || this.#stopping) return;
    this.#retryTimer = setTimeout(() => {
      const clients = this.#clients.filter((c) => this.#unreached.has(c.client_id));
      void Promise.all(clients.map((client) => this.#refreshOne(client))).then(() =>
        this.#retryUnreached(Math.min(delayMs * 2, maxMs), maxMs),
      );
    }, delayMs);
    this.#retryTimer.unref();
  }

  #check(client: ClientEntry): Promise<void> {
    return checkSectorDocument({
      clientId: client.client_id,
      uri: client.sector_identifier_uri!,
      redirectUris: client.redirect_uris,
      extraCas: this.#cas,
    });
  }

  /** Runs `check` on every client, {@link CHECKS_AT_ONCE} at a time; every outcome, in the clients' order. */
  async #eachClient(check: (client: ClientEntry) => Promise<void>): Promise<PromiseSettledResult<void>[]> {
    const outcomes: PromiseSettledResult<void>[] = [];
    let next = 0;
    const worker = async () => {
      while (next < this.#clients.length) {
        const at = next++;
        outcomes[at] = await check(this.#clients[at]!).then(
          () => ({ status: 'fulfilled', value: undefined }) as const,
          (reason: unknown) => ({ status: 'rejected', reason }) as const,
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(CHECKS_AT_ONCE, this.#clients.length) }, worker));
    return outcomes;
  }

  /** Checks every document again; never throws. A refresh asked while one runs is that one (no second round). */
  refresh(): Promise<void> {
    if (this.#refreshing !== undefined) return this.#refreshing;
    const running = this.#refreshAll().finally(() => {
      this.#refreshing = undefined;
    });
    this.#refreshing = running;
    return running;
  }

  async #refreshAll(): Promise<void> {
    await this.#eachClient((client) => this.#refreshOne(client));
  }

  async #refreshOne(client: ClientEntry): Promise<void> {
    if (this.#stopping) return; // a stopping gateway waits for the checks under way, not for every client's
    const uri = client.sector_identifier_uri!;
    try {
      await this.#check(client);
      this.#unreached.delete(client.client_id);
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
        const verdictAlready = this.#refused.has(client.client_id) && !this.#unreached.has(client.client_id);
        this.#unreached.delete(client.client_id);
        if (!verdictAlready) {
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

  /** Audits the clients the boot refused (`onChange`), once the audit log is up; each once. */
  async reportBootVerdicts(): Promise<void> {
    const changes = this.#atBoot;
    this.#atBoot = [];
    for (const change of changes) if (this.#refused.has(change.clientId)) await this.#report(change);
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

  /**
   * Throws when the client's document was found not to list its redirect URIs (a verdict): its refreshes are refused
   * then. A document this instance could not reach at boot (no verdict) does not refuse them: another instance may
   * serve the client meanwhile, and an RP told `unauthorized_client` may drop its tokens for good.
   */
  assertNoInvalidVerdict(clientId: string): void {
    if (!this.#unreached.has(clientId)) this.assertUsable(clientId);
  }

  /** Stops the timer; resolves once a refresh under way (and the audit of what it found) is done. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#retryTimer);
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#refreshing;
  }
}
