/**
 * The `reference` section of the configuration (optional: absent, no IdP of this protocol):
 *
 * | field | meaning | default |
 * |---|---|---|
 * | `audience` | our identifier: the `aud` every assertion must carry | `<issuer>/reference` |
 * | `idps[]` | the IdPs (≥ 1), each below | required |
 *
 * An IdP entry:
 *
 * | field | meaning | default |
 * |---|---|---|
 * | `id`, `displayName` | registry id and the name people see | required |
 * | `issuer` | the `iss` of its assertions | required |
 * | `authorizeUrl` | where the browser is sent (https; http on loopback) | required |
 * | `publicKeyFile` | a JSON file holding the IdP's public JWK (relative to the config file) | required |
 * | `algorithm` | the one JWS algorithm accepted (`ES256`, `ES384`, `EdDSA`, `PS256`); no default | required |
 * | `maxLoa` | the highest LoA believed (a higher one is clipped) | required |
 * | `clockSkewSeconds` | tolerance on `iat`/`nbf`/`exp`/`auth_time` (0..300) | 60 |
 * | `maxAuthenticationAgeSeconds` | an older `auth_time` is refused | 28800 (8 h) |
 */
import { z } from 'zod';
import { existingFile, httpsUrl, text, type SectionContext } from '../contract/config-schema.ts';
import { LOA_URIS } from '../contract/vocabulary.ts';

/** The JWS algorithms an IdP may be registered with (asymmetric only; `none` and HMAC are absent, so refused). */
export const REFERENCE_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'PS256'] as const;
export type ReferenceAlgorithm = (typeof REFERENCE_ALGORITHMS)[number];

const int = (min: number, max: number) =>
  z.int('must be an integer').min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`);
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });

function idpSchema(context: SectionContext) {
  return z.strictObject({
    id: text(/^[a-z0-9][a-z0-9-]{0,62}$/),
    displayName: text(),
    issuer: text(),
    authorizeUrl: httpsUrl(),
    publicKeyFile: existingFile(context),
    algorithm: oneOf(REFERENCE_ALGORITHMS),
    maxLoa: oneOf(LOA_URIS),
    clockSkewSeconds: int(0, 300).default(60),
    maxAuthenticationAgeSeconds: int(60, 7 * 86400).default(8 * 3600),
  });
}

/**
 * @example
 * const section = referenceSectionSchema({ baseDir, issuer }).parse(raw.reference);
 */
export function referenceSectionSchema(context: SectionContext) {
  return z
    .strictObject(
      {
        audience: text().default(`${context.issuer}/reference`),
        idps: z.array(idpSchema(context), 'is required').min(1, 'must have at least 1 entry'),
      },
      'must be an object',
    )
    .superRefine((section, ctx) => {
      const seen = new Set<string>();
      section.idps.forEach((idp, i) => {
        if (seen.has(idp.id))
          ctx.addIssue({ code: 'custom', path: ['idps', i, 'id'], message: `duplicate IdP id ${idp.id}` });
        seen.add(idp.id);
      });
    });
}

export type ReferenceSection = z.output<ReturnType<typeof referenceSectionSchema>>;
export type ReferenceIdpEntry = ReferenceSection['idps'][number];
