/**
 * Reads a metadata document (one md:EntityDescriptor or an md:EntitiesDescriptor aggregate) into the
 * IdP entities it holds, after the checks that make it trustworthy (EID-M1, EID-M2):
 *
 * - Strict parse (no DTD, one root, bounded depth).
 * - With trust anchors: the root must carry one enveloped signature (shape rules of `signature-shape.ts`,
 *   SHA-256+ algorithms) that verifies with one of the anchor certificates; the entities are then read
 *   from the signed canonical bytes only. Missing → `SAML_METADATA_SIGNATURE_MISSING`; not verifying with
 *   an anchor → `SAML_METADATA_UNTRUSTED` (foreign key) or `SAML_METADATA_SIGNATURE_INVALID`.
 * - `validUntil`: the earliest of the root's and the entity's; passed → `SAML_METADATA_EXPIRED`; absent
 *   while required → `SAML_METADATA_INVALID`.
 * - `cacheDuration`: the shortest of the root's and the entity's, when present.
 */
import { createHash } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { AdapterError } from '../contract.ts';
import { samlError } from '../saml/errors.ts';
import { readIdpEntity, type IdpMetadata } from '../saml/idp-metadata.ts';
import { verifyOne } from '../saml/verify/signatures.ts';
import { attr, childrenNamed, isElement, optionalChild } from '../saml/xml/dom.ts';
import { NS } from '../saml/xml/namespaces.ts';
import { parseStrictXml } from '../saml/xml/parse.ts';
import { DEFAULT_SIGNATURE_METHODS } from '../saml/xmldsig.ts';
import { parseDuration } from './duration.ts';

export interface MetadataEntity {
  metadata: IdpMetadata;
  /** Effective validUntil (ms since epoch), if any. */
  validUntil?: number;
  /** Effective cacheDuration (ms), if any. */
  cacheDurationMs?: number;
  /**
   * SHA-256 (hex) of what the signature covers, canonicalised (signed documents only): the same for every byte
   * form of one signed issue (a newline added, another XML declaration, other quotes), which the raw bytes are not.
   */
  signedDigest?: string;
}

export interface ReadOptions {
  /** PEM certificates the document's signature must verify with; empty = unsigned metadata accepted. */
  trustAnchors: readonly string[];
  requireValidUntil: boolean;
  now: Date;
  /** Signature methods accepted on metadata (default: every allowed one). */
  signatureAlgorithms?: readonly string[];
}

/**
 * The entity `entityId` of a metadata document, verified.
 *
 * @example
 * const { metadata, validUntil } = readMetadataEntity(xml, 'https://idp.example/metadata', { trustAnchors: [pem], requireValidUntil: true, now: new Date() });
 */
export function readMetadataEntity(xml: string, entityId: string | undefined, options: ReadOptions): MetadataEntity {
  const { root, signedDigest } = trustedRoot(xml, options);
  const entities = isElement(root, NS.metadata, 'EntitiesDescriptor')
    ? childrenNamed(root, NS.metadata, 'EntityDescriptor')
    : [root];
  if (!isElement(root, NS.metadata, 'EntitiesDescriptor') && !isElement(root, NS.metadata, 'EntityDescriptor')) {
    throw samlError('SAML_METADATA_INVALID', { detail: 'root is neither EntityDescriptor nor EntitiesDescriptor' });
  }
  const matching = entityId === undefined ? entities : entities.filter((e) => attr(e, 'entityID') === entityId);
  if (matching.length !== 1)
    throw samlError('SAML_METADATA_ENTITY_NOT_FOUND', {
      detail: `${matching.length} entities named ${entityId ?? '(any)'}`,
    });
  const entity = matching[0]!;
  const validUntil = earliest([root, entity].map((e) => attr(e, 'validUntil')).map(instant));
  if (validUntil === undefined && options.requireValidUntil)
    throw samlError('SAML_METADATA_INVALID', { detail: 'validUntil missing' });
  if (validUntil !== undefined && validUntil <= options.now.getTime()) {
    throw samlError('SAML_METADATA_EXPIRED', { detail: `validUntil ${new Date(validUntil).toISOString()}` });
  }
  const cacheDurationMs = earliest(
    [root, entity].map((e) => attr(e, 'cacheDuration')).map((v) => (v === undefined ? undefined : parseDuration(v))),
  );
  let metadata: IdpMetadata;
  try {
    metadata = readIdpEntity(entity);
  } catch (cause) {
    if (cause instanceof AdapterError && cause.code === 'SAML_METADATA_INVALID') throw cause;
    throw samlError('SAML_METADATA_INVALID', {
      detail: cause instanceof AdapterError ? cause.code : String(cause),
      cause,
    });
  }
  return {
    metadata,
    ...(validUntil === undefined ? {} : { validUntil }),
    ...(cacheDurationMs === undefined ? {} : { cacheDurationMs }),
    ...(signedDigest === undefined ? {} : { signedDigest }),
  };
}

/** The parser's own words kept in a detail: the message may quote the document, which anyone serving it writes. */
const PARSER_WORDS_MAX = 120;

/**
 * Why a document could not be read, for the operator: its size first (an empty or cut file says so at once, and the
 * detail's cap never cuts it off), the parser's code and detail, then the parser's own words once, shortened.
 */
function whyUnreadable(xml: string, cause: unknown): string {
  const words = cause instanceof AdapterError ? [cause.code, cause.detail] : ['parse'];
  const inner = cause instanceof Error ? cause.cause : undefined;
  if (inner instanceof Error) {
    // @xmldom/xmldom reports our onError's throw as `Reporting error "…" caused Error: <ours>`: ours, once
    const own = /caused Error: ([\s\S]*)$/.exec(inner.message)?.[1] ?? inner.message;
    const line = own.split('\n')[0] ?? '';
    words.push(line.length > PARSER_WORDS_MAX ? `${line.slice(0, PARSER_WORDS_MAX)}…` : line);
  }
  return `${Buffer.byteLength(xml)} bytes: ${words.filter((w) => w !== undefined && w !== '').join(': ')}`;
}

function trustedRoot(xml: string, options: ReadOptions): { root: Element; signedDigest?: string } {
  let root: Element;
  try {
    root = parseStrictXml(xml).documentElement!;
  } catch (cause) {
    throw samlError('SAML_METADATA_INVALID', { detail: whyUnreadable(xml, cause), cause });
  }
  if (options.trustAnchors.length === 0) return { root };
  let signature: Element | undefined;
  try {
    signature = optionalChild(root, NS.dsig, 'Signature');
  } catch (cause) {
    throw samlError('SAML_METADATA_SIGNATURE_INVALID', { detail: 'more than one Signature on the root', cause });
  }
  if (!signature) throw samlError('SAML_METADATA_SIGNATURE_MISSING', { detail: 'metadata is not signed' });
  let signed: string;
  try {
    ({ xml: signed } = verifyOne(
      root.ownerDocument!,
      signature,
      root,
      options.trustAnchors,
      options.signatureAlgorithms ?? DEFAULT_SIGNATURE_METHODS,
      [],
    ));
  } catch (cause) {
    const code =
      cause instanceof AdapterError && cause.code === 'SAML_SIGNATURE_UNTRUSTED_KEY'
        ? 'SAML_METADATA_UNTRUSTED'
        : 'SAML_METADATA_SIGNATURE_INVALID';
    throw samlError(code, {
      detail: cause instanceof AdapterError ? `${cause.code}: ${cause.detail ?? ''}` : String(cause),
      cause,
    });
  }
  const signedRoot = parseStrictXml(signed).documentElement!;
  if (signedRoot.localName !== root.localName || attr(signedRoot, 'ID') !== attr(root, 'ID')) {
    throw samlError('SAML_METADATA_SIGNATURE_INVALID', { detail: 'signed bytes are not the document root' });
  }
  return { root: signedRoot, signedDigest: createHash('sha256').update(signed).digest('hex') };
}

function instant(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms))
    throw samlError('SAML_METADATA_INVALID', { detail: `validUntil ${value} is not an xs:dateTime` });
  return ms;
}

function earliest(values: (number | undefined)[]): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length === 0 ? undefined : Math.min(...present);
}
