/**
 * The `saml` section of the configuration, as the SAML protocol declares it (zod, strict objects):
 *
 * | field | meaning | default |
 * |---|---|---|
 * | `entityId` | our SP entityID | `<issuer>/saml/metadata` |
 * | `spMetadata` | `{ validitySeconds (1 h..365 d), cacheDurationSeconds (5 min..7 d), expiryWarningSeconds }`; validity ≥ 2 × cacheDuration, warning ≤ validity − cacheDuration | 7 d, 1 d, min(2 d, validity − cacheDuration) |
 * | `idps[]` | the IdPs (≥ 1), each below | required |
 *
 * An IdP entry:
 *
 * | field | meaning | default |
 * |---|---|---|
 * | `id`, `displayName` | registry id (chooser, idp_hint) and the name people see | required |
 * | `kind` | `legacy` (plain SAML 2.0) or `eidas` (eIDAS node) | `legacy` |
 * | `enabled` | `false` keeps the entry but hides it | `true` |
 * | `metadataFile` / `metadataUrl` | where the metadata lives (one of them) | required |
 * | `entityId` | the entity to take from the document (an aggregate's; required with `metadataUrl`) | the only entity (a file) |
 * | `maxLoa`, `allowedLoas` | highest LoA believed; LoAs it may assert | —; all up to maxLoa |
 * | `clockSkewSeconds` | tolerance on time windows (0..300) | 60 |
 * | `minimumRsaKeyBits` | legacy IdPs: smallest RSA signing key trusted (only upwards; eIDAS: 3072 and approved EC curves, fixed) | 2048 |
 * | `maxAuthenticationAgeSeconds` | an older AuthnInstant is refused even when the RP sets no `max_age` | 28800 (8 h) |
 * | `requiredSignatures` | assertion / response / both / either | legacy `assertion`, eIDAS `response` |
 * | `signatureAlgorithms` | XML-DSig SignatureMethod URIs accepted | legacy: all allowed; eIDAS: PSS + ECDSA |
 * | `encryptedAssertions` | forbidden / allowed / required | legacy `forbidden`, eIDAS `required` |
 * | `nameIdFormat` | NameIDPolicy Format requested | unspecified |
 * | `attributeNames` | received name → internal attribute name | — |
 * | `authnRequestBinding` | `metadata` (HTTP-POST when offered, else HTTP-Redirect), `post` or `redirect` (forced); eIDAS: `metadata` only | `metadata` |
 * | `requestSigningAlgorithm` | how our AuthnRequests and logout messages to it are signed: `metadata` (the first SignatureMethod its metadata declares in `alg:SigningMethod` that we hold an active `saml` key of; none declared: legacy RSA, the key store's first `saml` key; eIDAS the first PSS/ECDSA one) or an algorithm (`RS256`, `PS256`, `ES256`, `ES384`, `EdDSA`; eIDAS: `PS256`, `ES256`, `ES384`) whose active `saml` key must exist at boot | `metadata` |
 * | `amr` | LoA URI → RFC 8176 `amr` values, how this IdP authenticates at that level | eIDAS minimum per LoA |
 * | `metadata` | `{ trustAnchorFiles, requireValidUntil, refreshSeconds, minRefreshSeconds, maxBackoffSeconds, expiryWarningSeconds }` | no anchor (eIDAS by URL: required), 3600, 30, 3600, 86400 |
 * | `eidas` | `{ spType, requestedAttributes, legalPerson, country, spCountry, alwaysForceAuthn }` (kind `eidas` only) | adapters/eidas/config.ts |
 *
 * Adapter-level rules (algorithm lists, eIDAS limits) are checked again by the adapters at boot.
 */
import { z } from 'zod';
import { existingFile, httpsUrl, text, type SectionContext } from '../contract/config-schema.ts';
import { AMR_VALUES, LOA_URIS } from '../contract/vocabulary.ts';
import type { InternalAttribute } from '../contract.ts';
import { LEGAL_PERSON } from '../eidas/config.ts';
import { REQUEST_SIGNING_SETTINGS } from '../saml/request-signing.ts';
import { EIDAS_SIGNATURE_METHODS } from '../saml/xmldsig.ts';
import { xmlDsigAlgorithm } from '../../hsm/algorithms.ts';

const int = (min: number, max: number) =>
  z.int('must be an integer').min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`);
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });
const strings = (item: z.ZodType<string> = z.string('must be a string')) =>
  z.array(item, 'must be an array').min(1, 'must have at least 1 entry');

function metadataSchema(context: SectionContext) {
  return z.strictObject({
    trustAnchorFiles: strings(existingFile(context)).optional(),
    requireValidUntil: z.boolean('must be true or false').optional(),
    refreshSeconds: int(1, 7 * 86400).default(3600),
    minRefreshSeconds: int(1, 86400).default(30),
    maxBackoffSeconds: int(1, 86400).default(3600),
    expiryWarningSeconds: int(60, 90 * 86400).default(86400),
  });
}

const eidasSchema = z.strictObject({
  spType: oneOf(['public', 'private'] as const).optional(),
  requestedAttributes: z
    .array(z.strictObject({ name: text(), required: z.boolean('must be true or false').default(false) }))
    .optional(),
  legalPerson: z.boolean('must be true or false').optional(),
  country: text(/^[A-Z]{2}$/).optional(),
  spCountry: text(/^[A-Z]{2}$/).optional(),
  alwaysForceAuthn: z
    .boolean('must be true or false')
    .refine((v) => v, 'the eIDAS profile requires ForceAuthn on every request; it cannot be turned off')
    .optional(),
});

export function samlIdpSchema(context: SectionContext) {
  return z
    .strictObject({
      id: text(/^[a-z0-9][a-z0-9-]{0,62}$/),
      kind: oneOf(['legacy', 'eidas'] as const).default('legacy'),
      displayName: text(),
      enabled: z.boolean('must be true or false').default(true),
      metadataFile: existingFile(context).optional(),
      metadataUrl: httpsUrl().optional(),
      entityId: text().optional(),
      maxLoa: oneOf(LOA_URIS),
      // the RPs this IdP serves (a test IdP, a sector's own): every other RP is never offered nor given it
      onlyClients: z
        .array(text(), 'must be an array')
        .min(1, 'must have at least 1 entry: leave it out for an IdP that serves every RP')
        .optional(),
      allowedLoas: z.array(oneOf(LOA_URIS), 'must be an array').min(1, 'must have at least 1 entry').optional(),
      clockSkewSeconds: int(0, 300).default(60),
      maxAuthenticationAgeSeconds: int(60, 7 * 86400).default(8 * 3600),
      minimumRsaKeyBits: int(2048, 16384).default(2048),
      requiredSignatures: oneOf(['assertion', 'response', 'both', 'either'] as const).optional(),
      signatureAlgorithms: strings().optional(),
      encryptedAssertions: oneOf(['forbidden', 'allowed', 'required'] as const).optional(),
      nameIdFormat: text().optional(),
      attributeNames: z.record(z.string(), text(), 'must be an object').optional(),
      authnRequestBinding: oneOf(['metadata', 'post', 'redirect'] as const).default('metadata'),
      requestSigningAlgorithm: oneOf(REQUEST_SIGNING_SETTINGS).default('metadata'),
      amr: z.partialRecord(oneOf(LOA_URIS), z.array(oneOf(AMR_VALUES)).min(1, 'must have at least 1 entry')).optional(),
      metadata: metadataSchema(context).prefault({}),
      eidas: eidasSchema.optional(),
    })
    .superRefine((idp, ctx) => {
      const at = (...path: string[]) => ({ code: 'custom' as const, path });
      if ((idp.metadataFile === undefined) === (idp.metadataUrl === undefined))
        ctx.addIssue({ ...at('metadataFile'), message: 'give exactly one of metadataFile and metadataUrl' });
      if (idp.kind !== 'eidas' && idp.eidas !== undefined)
        ctx.addIssue({ ...at('eidas'), message: 'only for kind "eidas"' });
      if (idp.kind === 'eidas' && idp.eidas?.country === undefined)
        ctx.addIssue({
          ...at('eidas', 'country'),
          message: 'is required for kind "eidas": the node\'s country, the XX of every PersonIdentifier XX/YY/…',
        });
      (idp.eidas?.requestedAttributes ?? []).forEach(({ name }, i) => {
        if (LEGAL_PERSON.includes(name as InternalAttribute) && idp.eidas?.legalPerson !== true)
          ctx.addIssue({
            code: 'custom',
            path: ['eidas', 'requestedAttributes', i, 'name'],
            message: 'belongs to the legal-person data set: set eidas.legalPerson to true to ask for it',
          });
      });
      if (idp.kind === 'eidas' && idp.authnRequestBinding !== 'metadata')
        ctx.addIssue({
          ...at('authnRequestBinding'),
          message:
            'eIDAS nodes receive HTTP-POST unless their metadata offers only HTTP-Redirect: leave it to the metadata',
        });
      if (
        idp.kind === 'eidas' &&
        idp.requestSigningAlgorithm !== 'metadata' &&
        !EIDAS_SIGNATURE_METHODS.includes(xmlDsigAlgorithm(idp.requestSigningAlgorithm).xmlDsig.signatureMethod)
      )
        ctx.addIssue({
          ...at('requestSigningAlgorithm'),
          message: 'eIDAS requests are signed with RSA-PSS or ECDSA (EID-R6): PS256, ES256, ES384 or metadata',
        });
      if (idp.kind === 'eidas' && !idp.metadata.trustAnchorFiles?.length && idp.metadataUrl !== undefined)
        ctx.addIssue({
          ...at('metadata', 'trustAnchorFiles'),
          message: 'eIDAS metadata fetched by URL must be signed: give its trust anchor (EID-M1)',
        });
    })
    .transform(({ metadata, requiredSignatures, ...idp }) => {
      const trustAnchorFiles = metadata.trustAnchorFiles ?? [];
      return {
        ...idp,
        requiredSignatures: requiredSignatures ?? (idp.kind === 'eidas' ? 'response' : 'assertion'),
        metadata: {
          ...metadata,
          trustAnchorFiles,
          requireValidUntil: metadata.requireValidUntil ?? (idp.kind === 'eidas' && trustAnchorFiles.length > 0),
        },
      };
    });
}

const spMetadataSchema = z
  .strictObject({
    validitySeconds: int(3600, 365 * 86400).default(7 * 86400),
    cacheDurationSeconds: int(300, 7 * 86400).default(86400),
    expiryWarningSeconds: z.int('must be an integer').min(60, 'must be ≥ 60').optional(),
  })
  .superRefine((md, ctx) => {
    if (md.validitySeconds < 2 * md.cacheDurationSeconds)
      ctx.addIssue({
        code: 'custom',
        path: ['validitySeconds'],
        message: `must be at least twice cacheDurationSeconds (${2 * md.cacheDurationSeconds})`,
      });
    else if (
      md.expiryWarningSeconds !== undefined &&
      md.expiryWarningSeconds > md.validitySeconds - md.cacheDurationSeconds
    )
      ctx.addIssue({
        code: 'custom',
        path: ['expiryWarningSeconds'],
        message: `must be ≤ ${md.validitySeconds - md.cacheDurationSeconds}`,
      });
  })
  .transform((md) => ({
    ...md,
    expiryWarningSeconds: md.expiryWarningSeconds ?? Math.min(2 * 86400, md.validitySeconds - md.cacheDurationSeconds),
  }));

/**
 * @example
 * const saml = samlSectionSchema({ baseDir, issuer }).parse(raw.saml);
 */
export function samlSectionSchema(context: SectionContext) {
  return z
    .strictObject(
      {
        entityId: text().default(`${context.issuer}/saml/metadata`),
        idps: z.array(samlIdpSchema(context), 'is required').min(1, 'must have at least 1 entry'),
        spMetadata: spMetadataSchema.prefault({}),
      },
      'must be an object',
    )
    .superRefine((section, ctx) => {
      const seen = new Set<string>();
      section.idps.forEach((idp, i) => {
        if (seen.has(idp.id))
          ctx.addIssue({ code: 'custom', path: ['idps', i, 'id'], message: `duplicate IdP id ${idp.id}` });
        seen.add(idp.id);
        // pinned (the configuration file's entries; the IdP CLI's `add` requires it too): a document of another entity,
        // signed by the same federation anchor and served by that URL's host, was taken in this IdP's place, with this
        // entry's LoA and clients. A registry row written before this rule is loaded, pinned to the entity of its first
        // fetch and warned about at boot (`SAML_METADATA_ENTITY_UNPINNED`: saml-entry-fit.ts)
        if (idp.metadataUrl !== undefined && idp.entityId === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['idps', i, 'entityId'],
            message:
              'required with metadataUrl: the entityID that URL must serve (no other entity is taken in its place)',
          });
      });
    });
}

export type SamlSection = z.output<ReturnType<typeof samlSectionSchema>>;
export type SamlIdpEntry = SamlSection['idps'][number];
