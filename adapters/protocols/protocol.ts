/**
 * An upstream protocol as the gateway sees it: one module per protocol (SAML with its legacy and eIDAS kinds,
 * the reference protocol, the next one), listed in `table.ts`. The gateway reads the section named
 * `configKey` with the protocol's own `configSchema`, starts it, registers the adapters it returns and mounts
 * its routes, and never learns which protocol it was.
 *
 * - `configSchema`: the section's zod schema, built for the deployment (`SectionContext`); strict objects.
 * - `start()`: builds the adapters of the section (and whatever they share: a metadata monitor, our published
 *   document) from neutral collaborators (`UpstreamDeps`), and returns them with their routes.
 * - The result's `monitor` (optional) is the protocol's view of its IdPs' trust material (SAML metadata):
 *   status for operators, refresh/disable/enable on command. `publishedValidUntil` (optional) is when the
 *   document we publish for this protocol (SP metadata) expires, for the metrics.
 */
import type { z } from 'zod';
import type { AdapterContext, UpstreamAdapter } from '../contract.ts';
import type { SectionContext } from '../contract/config-schema.ts';
import type { AdapterRoute } from '../contract/routes.ts';
import type { MetadataEvent, MetadataMonitor } from '../metadata/monitor.ts';
import type { Signer } from '../../hsm/signer.ts';
import type { TokenKeyStore } from '../../hsm/token-keystore.ts';

/** What a protocol may log through: pino's shape, nothing more. */
export interface UpstreamLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** The neutral collaborators a protocol is started with (boot.ts builds them once). */
export interface UpstreamDeps {
  /** Keys (the lifecycle store), short-lived state (Redis), the public base URL, the clock. */
  context: AdapterContext;
  /** The token itself, for keys that are not signing keys (a decryption key). */
  tokens: TokenKeyStore;
  /** The certificate published for a signing key, with this subject when it is first made (in the HSM; then kept). */
  certificateOf(signer: Signer, subject: string): Promise<string>;
  logger: UpstreamLogger;
  /** Every event of the protocol's metadata monitor (the gateway counts them). */
  onMetadataEvent?(event: MetadataEvent): void;
}

export interface RunningUpstream {
  /** The adapters of the section, each with the issuer its inbound messages name (when it names one first). */
  adapters: Array<{ adapter: UpstreamAdapter; issuer?: string }>;
  routes: AdapterRoute[];
  monitor?: MetadataMonitor;
  publishedValidUntil?(): Date | undefined;
  stop(): Promise<void>;
}

export interface UpstreamProtocol<Section = unknown> {
  /** A name for logs (`saml`, `reference`). */
  readonly name: string;
  /** The top-level key of its configuration section. */
  readonly configKey: string;
  /** Whether a deployment must have this section (false: absent = no IdP of this protocol). */
  readonly required: boolean;
  configSchema(context: SectionContext): z.ZodType<Section, unknown>;
  start(section: Section, deps: UpstreamDeps): Promise<RunningUpstream>;
}
