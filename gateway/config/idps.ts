/**
 * Validates the upstream IdP registry entries of the configuration (`saml.idps[]`):
 *
 * | field | meaning | default |
 * |---|---|---|
 * | `id`, `displayName` | registry id (chooser, idp_hint) and the name people see | required |
 * | `kind` | `legacy` (plain SAML 2.0) or `eidas` (eIDAS node) | `legacy` |
 * | `enabled` | `false` keeps the entry but hides it | `true` |
 * | `metadataFile` / `metadataUrl` | where the metadata lives (one of them) | required |
 * | `entityId` | the entity to take from an aggregate | the only entity |
 * | `maxLoa`, `allowedLoas` | highest LoA believed; LoAs it may assert | —; all up to maxLoa |
 * | `clockSkewSeconds` | tolerance on time windows | 60 |
 * | `minimumRsaKeyBits` | legacy IdPs: smallest RSA signing key trusted (only upwards; eIDAS: 3072 and approved EC curves, fixed) | 2048 |
 * | `maxAuthenticationAgeSeconds` | an assertion whose AuthnInstant is older is refused (`AUTHN_TOO_OLD` → `login_required`), even when the RP sets no `max_age` | 28800 (8 h) |
 * | `requiredSignatures` | assertion / response / both / either | legacy `assertion`, eIDAS `response` |
 * | `signatureAlgorithms` | XML-DSig SignatureMethod URIs accepted | legacy: all allowed; eIDAS: PSS + ECDSA |
 * | `encryptedAssertions` | forbidden / allowed / required | legacy `forbidden`, eIDAS `required` |
 * | `nameIdFormat` | NameIDPolicy Format requested | unspecified |
 * | `attributeNames` | received name → internal attribute name | — |
 * | `authnRequestBinding` | `metadata` (HTTP-POST when the IdP's metadata offers it, else HTTP-Redirect), `post` or `redirect` (forced; refused at login when the metadata lacks it); eIDAS: `metadata` only | `metadata` |
 * | `amr` | LoA URI → RFC 8176 `amr` values, how this IdP authenticates at that level | eIDAS minimum per LoA (translate/amr.ts) |
 * | `metadata` | `{ trustAnchorFiles, requireValidUntil, refreshSeconds, minRefreshSeconds, maxBackoffSeconds, expiryWarningSeconds }` (the last: log a warning when the metadata held has less left) | no anchor (eIDAS: required), 3600, 30, 3600, 86400 |
 * | `eidas` | `{ spType, requestedAttributes, legalPerson, country, spCountry, alwaysForceAuthn }` | see adapters/eidas/config.ts |
 *
 * Adapter-level rules (algorithm lists, eIDAS limits) are checked again by the adapters at boot.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import {
  array,
  boolean,
  integer,
  join,
  object,
  oneOf,
  onlyKeys,
  optionalString,
  string,
  url,
  type Obj,
} from './check.ts';
import { LOA_URIS } from '../translate/acr.ts';
import { AMR_VALUES, type AmrValue } from '../translate/amr.ts';
import type { SamlIdpEntry } from './types.ts';

/** eIDAS requests always force a fresh authentication (eIDAS SAML profile): `false` is refused. */
function forcedTrue(e: Obj, at: string): true {
  if (boolean(e, 'alwaysForceAuthn', at, true) !== true) {
    throw new ConfigError(
      join(at, 'alwaysForceAuthn'),
      'the eIDAS profile requires ForceAuthn on every request; it cannot be turned off',
    );
  }
  return true;
}

/** `amr`: LoA URI → a non-empty list of RFC 8176 values (an unknown LoA or value is refused). */
function amrMap(raw: unknown, at: string): Partial<Record<(typeof LOA_URIS)[number], AmrValue[]>> {
  const map = object(raw, at);
  onlyKeys(map, at, LOA_URIS);
  return Object.fromEntries(
    Object.keys(map).map((loa) => {
      const values = array(map, loa, at, { min: 1 }).map((v, j) =>
        oneOf({ v }, 'v', join(join(at, loa), j), AMR_VALUES),
      );
      return [loa, values];
    }),
  );
}

const KEYS = [
  'id',
  'kind',
  'displayName',
  'enabled',
  'metadataFile',
  'metadataUrl',
  'entityId',
  'maxLoa',
  'allowedLoas',
  'clockSkewSeconds',
  'maxAuthenticationAgeSeconds',
  'minimumRsaKeyBits',
  'requiredSignatures',
  'signatureAlgorithms',
  'encryptedAssertions',
  'nameIdFormat',
  'attributeNames',
  'authnRequestBinding',
  'metadata',
  'eidas',
  'amr',
] as const;
const METADATA_KEYS = [
  'trustAnchorFiles',
  'requireValidUntil',
  'refreshSeconds',
  'minRefreshSeconds',
  'maxBackoffSeconds',
  'expiryWarningSeconds',
] as const;
const EIDAS_KEYS = [
  'spType',
  'requestedAttributes',
  'legalPerson',
  'country',
  'spCountry',
  'alwaysForceAuthn',
] as const;

function file(value: unknown, at: string, baseDir: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(at, 'must be a file path');
  const path = resolve(baseDir, value);
  if (!existsSync(path)) throw new ConfigError(at, `file not found: ${path}`);
  return path;
}

function strings(obj: Obj, key: string, path: string): string[] | undefined {
  if (obj[key] === undefined) return undefined;
  return array(obj, key, path, { min: 1 }).map((v, i) => {
    if (typeof v !== 'string') throw new ConfigError(join(join(path, key), i), 'must be a string');
    return v;
  });
}

export function parseIdps(list: unknown[], baseDir: string): SamlIdpEntry[] {
  const seen = new Set<string>();
  return list.map((raw, i) => {
    const path = join('saml.idps', i);
    const idp = object(raw, path);
    onlyKeys(idp, path, KEYS);
    const id = string(idp, 'id', path, { pattern: /^[a-z0-9][a-z0-9-]{0,62}$/ });
    if (seen.has(id)) throw new ConfigError(join(path, 'id'), `duplicate IdP id ${id}`);
    seen.add(id);
    const kind = oneOf(idp, 'kind', path, ['legacy', 'eidas'] as const, 'legacy');
    if ((idp.metadataFile === undefined) === (idp.metadataUrl === undefined))
      throw new ConfigError(join(path, 'metadataFile'), 'give exactly one of metadataFile and metadataUrl');
    const md = object(idp.metadata ?? {}, join(path, 'metadata'));
    onlyKeys(md, join(path, 'metadata'), METADATA_KEYS);
    const mdPath = join(path, 'metadata');
    const trustAnchorFiles = (strings(md, 'trustAnchorFiles', mdPath) ?? []).map((f, j) =>
      file(f, join(join(mdPath, 'trustAnchorFiles'), j), baseDir),
    );
    if (kind === 'eidas' && idp.authnRequestBinding !== undefined && idp.authnRequestBinding !== 'metadata') {
      throw new ConfigError(
        join(path, 'authnRequestBinding'),
        'eIDAS nodes receive HTTP-POST unless their metadata offers only HTTP-Redirect: leave it to the metadata',
      );
    }
    if (kind === 'eidas' && trustAnchorFiles.length === 0 && idp.metadataUrl !== undefined) {
      throw new ConfigError(
        join(mdPath, 'trustAnchorFiles'),
        'eIDAS metadata fetched by URL must be signed: give its trust anchor (EID-M1)',
      );
    }
    const entry: SamlIdpEntry = {
      id,
      kind,
      displayName: string(idp, 'displayName', path),
      enabled: boolean(idp, 'enabled', path, true),
      maxLoa: oneOf(idp, 'maxLoa', path, LOA_URIS),
      clockSkewSeconds: integer(idp, 'clockSkewSeconds', path, { default: 60, min: 0, max: 300 }),
      maxAuthenticationAgeSeconds: integer(idp, 'maxAuthenticationAgeSeconds', path, {
        default: 8 * 3600,
        min: 60,
        max: 7 * 86400,
      }),
      minimumRsaKeyBits: integer(idp, 'minimumRsaKeyBits', path, { default: 2048, min: 2048, max: 16384 }),
      requiredSignatures: oneOf(
        idp,
        'requiredSignatures',
        path,
        ['assertion', 'response', 'both', 'either'] as const,
        kind === 'eidas' ? 'response' : 'assertion',
      ),
      authnRequestBinding: oneOf(
        idp,
        'authnRequestBinding',
        path,
        ['metadata', 'post', 'redirect'] as const,
        'metadata',
      ),
      metadata: {
        trustAnchorFiles,
        requireValidUntil: boolean(md, 'requireValidUntil', mdPath, kind === 'eidas' && trustAnchorFiles.length > 0),
        refreshSeconds: integer(md, 'refreshSeconds', mdPath, { default: 3600, min: 1, max: 7 * 86400 }),
        minRefreshSeconds: integer(md, 'minRefreshSeconds', mdPath, { default: 30, min: 1, max: 86400 }),
        maxBackoffSeconds: integer(md, 'maxBackoffSeconds', mdPath, { default: 3600, min: 1, max: 86400 }),
        expiryWarningSeconds: integer(md, 'expiryWarningSeconds', mdPath, { default: 86400, min: 60, max: 90 * 86400 }),
      },
    };
    if (idp.metadataFile !== undefined)
      entry.metadataFile = file(idp.metadataFile, join(path, 'metadataFile'), baseDir);
    if (idp.metadataUrl !== undefined) entry.metadataUrl = url(idp.metadataUrl, join(path, 'metadataUrl'));
    const entityId = optionalString(idp, 'entityId', path);
    if (entityId !== undefined) entry.entityId = entityId;
    const allowedLoas = strings(idp, 'allowedLoas', path);
    if (allowedLoas)
      entry.allowedLoas = allowedLoas.map((v, j) => oneOf({ v }, 'v', join(join(path, 'allowedLoas'), j), LOA_URIS));
    const algorithms = strings(idp, 'signatureAlgorithms', path);
    if (algorithms) entry.signatureAlgorithms = algorithms;
    if (idp.encryptedAssertions !== undefined)
      entry.encryptedAssertions = oneOf(idp, 'encryptedAssertions', path, [
        'forbidden',
        'allowed',
        'required',
      ] as const);
    const nameIdFormat = optionalString(idp, 'nameIdFormat', path);
    if (nameIdFormat !== undefined) entry.nameIdFormat = nameIdFormat;
    if (idp.attributeNames !== undefined) {
      const names = object(idp.attributeNames, join(path, 'attributeNames'));
      entry.attributeNames = Object.fromEntries(
        Object.keys(names).map((k) => [k, string(names, k, join(path, 'attributeNames'))]),
      );
    }
    if (idp.amr !== undefined) entry.amr = amrMap(idp.amr, join(path, 'amr'));
    if (idp.eidas !== undefined) {
      if (kind !== 'eidas') throw new ConfigError(join(path, 'eidas'), 'only for kind "eidas"');
      const e = object(idp.eidas, join(path, 'eidas'));
      const at = join(path, 'eidas');
      onlyKeys(e, at, EIDAS_KEYS);
      entry.eidas = {
        ...(e.spType === undefined ? {} : { spType: oneOf(e, 'spType', at, ['public', 'private'] as const) }),
        ...(e.legalPerson === undefined ? {} : { legalPerson: boolean(e, 'legalPerson', at, false) }),
        ...(e.alwaysForceAuthn === undefined ? {} : { alwaysForceAuthn: forcedTrue(e, at) }),
        ...(e.country === undefined ? {} : { country: string(e, 'country', at, { pattern: /^[A-Z]{2}$/ }) }),
        ...(e.spCountry === undefined ? {} : { spCountry: string(e, 'spCountry', at, { pattern: /^[A-Z]{2}$/ }) }),
        ...(e.requestedAttributes === undefined
          ? {}
          : {
              requestedAttributes: array(e, 'requestedAttributes', at).map((r, j) => {
                const ra = object(r, join(join(at, 'requestedAttributes'), j));
                return {
                  name: string(ra, 'name', join(join(at, 'requestedAttributes'), j)),
                  required: boolean(ra, 'required', join(join(at, 'requestedAttributes'), j), false),
                };
              }),
            }),
      };
    }
    return entry;
  });
}
