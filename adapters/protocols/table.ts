/**
 * The closed table of upstream protocols this build knows. The gateway reads each one's configuration section
 * (`configKey`), starts it, registers its adapters and mounts its routes, in this order; it never names one.
 * A new protocol is a folder in `adapters/` that passes the contract suite (`test/adapters/contract/`), a module
 * here beside `saml.ts`, and one row below.
 */
import type { UpstreamProtocol } from './protocol.ts';
import { referenceProtocol } from './reference.ts';
import { samlProtocol } from './saml.ts';

export const UPSTREAM_PROTOCOLS = [samlProtocol, referenceProtocol] as const;

type Protocols = (typeof UPSTREAM_PROTOCOLS)[number];
type SectionOf<P> = P extends UpstreamProtocol<infer S> ? S : never;

/** The validated sections, by configuration key (`{ saml: SamlSection, … }`); optional ones may be absent. */
export type UpstreamSections = {
  [P in Protocols as P['configKey']]: P['required'] extends true ? SectionOf<P> : SectionOf<P> | undefined;
};

/** Every section key, for the configuration's list of known top-level keys. */
export const UPSTREAM_CONFIG_KEYS: readonly string[] = UPSTREAM_PROTOCOLS.map((p) => p.configKey);

/**
 * The same table for code that walks it (the configuration loader, boot): each protocol's `start` receives only
 * what its own `configSchema` produced, which TypeScript cannot correlate across a union, hence this one view.
 */
export const PROTOCOLS: ReadonlyArray<UpstreamProtocol<unknown>> = UPSTREAM_PROTOCOLS as unknown as ReadonlyArray<
  UpstreamProtocol<unknown>
>;
