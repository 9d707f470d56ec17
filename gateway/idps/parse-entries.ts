/**
 * The upstream IdP entries of the durable registry and of `gateway/idps/cli.ts add`, checked exactly like the
 * configuration's (the protocol's own schema, `adapters/protocols/`): errors name `saml.idps[i].…`.
 */
import { z } from 'zod';
import { samlProtocol } from '../../adapters/protocols/saml.ts';
import { samlIdpSchema, type SamlIdpEntry } from '../../adapters/protocols/saml-config.ts';
import { parseWith } from '../config/schema-error.ts';

/**
 * @example
 * const [entry] = parseIdps([raw], dirname(file));
 */
export function parseIdps(list: unknown[], baseDir: string): SamlIdpEntry[] {
  // the issuer only gives defaults of the section, not of an entry
  const schema = z.array(samlIdpSchema({ baseDir, issuer: 'https://unused.invalid' }));
  return parseWith(schema, list, `${samlProtocol.configKey}.idps`);
}
