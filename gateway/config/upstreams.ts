/**
 * The upstream protocols' sections of the configuration: each read at its own top-level key with the schema
 * its protocol declares (`adapters/protocols/table.ts`), so this folder never learns what a section holds. A
 * required section that is absent, or any wrong field, fails the boot naming its path.
 */
import { PROTOCOLS, type UpstreamSections } from '../../adapters/protocols/table.ts';
import type { SectionContext } from '../../adapters/contract/config-schema.ts';
import { parseWith } from './schema-error.ts';

/**
 * @example
 * const sections = parseUpstreamSections(root, { baseDir, issuer });
 */
export function parseUpstreamSections(root: Record<string, unknown>, context: SectionContext): UpstreamSections {
  const sections: Record<string, unknown> = {};
  for (const protocol of PROTOCOLS) {
    const raw = root[protocol.configKey];
    sections[protocol.configKey] =
      raw === undefined && !protocol.required
        ? undefined
        : parseWith(protocol.configSchema(context), raw, protocol.configKey);
  }
  return sections as UpstreamSections;
}
