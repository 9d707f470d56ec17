/**
 * The closed table of upstream adapter kinds: what the gateway needs to know about a kind without
 * naming its protocol (the signing-key minimum its trust material must meet, whether its IdPs add
 * extensions to the published SP metadata, whether its requests need a key of the eIDAS algorithms).
 * A kind not in the table is an error (`ADAPTER_KIND_UNKNOWN`), never a default.
 *
 * The SAML kinds of the SAML protocol module (`protocols/saml-build.ts`); a protocol's factories, routes and
 * config schema live in its module (`protocols/`), so the gateway mounts it without branching on a name.
 */
import { AdapterError } from './contract.ts';
import { EIDAS_KEY_RULE, legacyKeyRule, type KeyStrengthRule } from './saml/key-strength.ts';

export interface AdapterKind {
  /** The minimum a signing key in this kind's trust material must meet. */
  keyRule(input: { minimumRsaKeyBits: number }): KeyStrengthRule;
  /** Whether an IdP of this kind adds its extensions to our published metadata. */
  extendsPublishedMetadata: boolean;
  /** Whether this kind's requests and our metadata must be signed with a key of its own algorithm list. */
  needsOwnSigningAlgorithms: boolean;
}

export const ADAPTER_KINDS = {
  legacy: {
    keyRule: ({ minimumRsaKeyBits }) => legacyKeyRule(minimumRsaKeyBits),
    extendsPublishedMetadata: false,
    needsOwnSigningAlgorithms: false,
  },
  eidas: { keyRule: () => EIDAS_KEY_RULE, extendsPublishedMetadata: true, needsOwnSigningAlgorithms: true },
} as const satisfies Record<string, AdapterKind>;

export type AdapterKindName = keyof typeof ADAPTER_KINDS;

/**
 * The declaration of a kind; throws `ADAPTER_KIND_UNKNOWN` for a name not in the table.
 *
 * @example
 * adapterKind(entry.kind).keyRule({ minimumRsaKeyBits: entry.minimumRsaKeyBits });
 */
export function adapterKind(name: string): AdapterKind {
  if (!Object.hasOwn(ADAPTER_KINDS, name))
    throw new AdapterError('ADAPTER_KIND_UNKNOWN', 'Unknown adapter kind.', { detail: name });
  return ADAPTER_KINDS[name as AdapterKindName];
}
