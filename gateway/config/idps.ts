/** Validates the upstream IdP registry entries of the configuration. */
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import { join, object, oneOf, onlyKeys, string, integer } from './check.ts';
import { LOA_URIS } from '../translate/acr.ts';
import type { SamlIdpEntry } from './types.ts';

const KEYS = ['id', 'displayName', 'metadataFile', 'maxLoa', 'clockSkewSeconds', 'requiredSignatures'] as const;

export function parseIdps(list: unknown[], baseDir: string): SamlIdpEntry[] {
  const seen = new Set<string>();
  return list.map((raw, i) => {
    const path = join('saml.idps', i);
    const idp = object(raw, path);
    onlyKeys(idp, path, KEYS);
    const id = string(idp, 'id', path, { pattern: /^[a-z0-9][a-z0-9-]{0,62}$/ });
    if (seen.has(id)) throw new ConfigError(join(path, 'id'), `duplicate IdP id ${id}`);
    seen.add(id);
    const metadataFile = resolve(baseDir, string(idp, 'metadataFile', path));
    if (!existsSync(metadataFile)) throw new ConfigError(join(path, 'metadataFile'), `file not found: ${metadataFile}`);
    return {
      id,
      displayName: string(idp, 'displayName', path),
      metadataFile,
      maxLoa: oneOf(idp, 'maxLoa', path, LOA_URIS),
      clockSkewSeconds: integer(idp, 'clockSkewSeconds', path, { default: 60, min: 0, max: 300 }),
      requiredSignatures: oneOf(idp, 'requiredSignatures', path, ['assertion', 'response', 'both', 'either'] as const, 'assertion'),
    };
  });
}
