/**
 * Whether one SAML IdP entry can be built on this deployment, checked before it is: its request-signing
 * algorithm has an active `saml` key in the HSM, an eIDAS node has a PSS/ECDSA one, encrypted assertions have a
 * `saml_decryption` key, and each trust anchor is a certificate that can be read and is strong enough for the keys it
 * vouches for. `saml-build.ts` stops the boot on an entry of the configuration
 * file that does not fit (the operator's file is wrong); the gateway leaves out an entry of the durable registry that
 * does not (gateway/idps/start-idps.ts: one row added with the CLI never stops every instance's boot).
 */
import { readFileSync } from 'node:fs';
import { adapterKind } from '../kinds.ts';
import { keyStrengthProblem, type KeyStrengthRule } from '../saml/key-strength.ts';
import { EIDAS_SIGNATURE_METHODS } from '../saml/xmldsig.ts';
import { xmlDsigAlgorithm } from '../../hsm/algorithms.ts';
import type { Signer } from '../../hsm/signer.ts';
import type { SamlIdpEntry } from './saml-config.ts';

/** What does not fit, as a setting's path within the entry and why; `undefined` when it fits. */
export interface EntryMisfit {
  path: string;
  why: string;
}

/**
 * The keys the entry needs in the HSM: an active `saml` key of its `requestSigningAlgorithm`, and for an eIDAS node
 * one of PS256, ES256 or ES384.
 *
 * @example
 * const misfit = keyMisfit(entry, keys.activeSigners('saml'));
 */
export function keyMisfit(
  entry: SamlIdpEntry,
  activeSaml: readonly Signer[],
  hasDecryptionKey: boolean,
): EntryMisfit | undefined {
  if (entry.requestSigningAlgorithm !== 'metadata' && !activeSaml.some((s) => s.alg === entry.requestSigningAlgorithm))
    return {
      path: 'requestSigningAlgorithm',
      why: `no active ${entry.requestSigningAlgorithm} saml key in the HSM (node hsm/cli.ts generate saml ${entry.requestSigningAlgorithm})`,
    };
  if (
    entry.kind === 'eidas' &&
    !activeSaml.some((s) => EIDAS_SIGNATURE_METHODS.includes(xmlDsigAlgorithm(s.alg).xmlDsig.signatureMethod))
  )
    return { path: '', why: 'eIDAS requests need an active saml key of PS256, ES256 or ES384 in the HSM' };
  // an eIDAS node encrypts always; a legacy IdP when its entry allows it (default: forbidden)
  const encryption = entry.encryptedAssertions ?? (entry.kind === 'eidas' ? 'required' : 'forbidden');
  if (encryption !== 'forbidden' && !hasDecryptionKey)
    return {
      path: 'encryptedAssertions',
      why: 'encrypted assertions need a saml_decryption key in the HSM (node hsm/cli.ts generate saml_decryption RS256)',
    };
  return undefined;
}

/**
 * Each trust anchor can be read and is strong enough for its kind (the metadata monitor refuses the entry otherwise,
 * `SAML_METADATA_KEY_TOO_WEAK`).
 */
export function anchorMisfit(entry: SamlIdpEntry): EntryMisfit | undefined {
  for (const [i, file] of entry.metadata.trustAnchorFiles.entries()) {
    let problem: string | undefined;
    try {
      problem = keyStrengthProblem(readFileSync(file, 'utf8'), keyRuleOf(entry));
    } catch {
      return { path: `metadata.trustAnchorFiles[${i}]`, why: `cannot read a certificate from ${file}` };
    }
    if (problem !== undefined)
      return { path: `metadata.trustAnchorFiles[${i}]`, why: `trust anchor ${file}: ${problem}` };
  }
  return undefined;
}

/** The signing-key minimum of an IdP's kind, as its kind declares it (`kinds.ts`); an unknown kind throws. */
export function keyRuleOf(entry: SamlIdpEntry): KeyStrengthRule {
  return adapterKind(entry.kind).keyRule({ minimumRsaKeyBits: entry.minimumRsaKeyBits });
}

/**
 * The warning for an entry whose metadata is fetched by URL with no trust anchor: its keys are whatever that URL
 * serves, so whoever obtains a certificate for the host (or controls it, or its DNS with a CA's help) can replace the
 * IdP's keys and sign any identity. Not refused (a legacy IdP may publish unsigned metadata, and an eIDAS node is
 * already refused without an anchor: `saml-config.ts`); said at every boot and by the IdP CLI's `add`.
 *
 * @example
 * const warning = unanchoredMetadata(entry); // 'metadata fetched from https://idp.example/md with no trust anchor: …'
 */
export function unanchoredMetadata(entry: SamlIdpEntry): string | undefined {
  if (entry.metadataUrl === undefined || entry.metadata.trustAnchorFiles.length > 0) return undefined;
  return `metadata fetched from ${entry.metadataUrl} with no trust anchor: whoever can serve that URL (its host, a certificate for it) can replace the IdP's keys; give metadata.trustAnchorFiles, or use metadataFile`;
}

/**
 * The warning for an entry fetched by URL with no `entityId` (an IdP CLI row written before `entityId` was required):
 * it is pinned to the entity of its first fetch in this process only, so a document of another entity served at boot
 * would be taken in its place. Said at every boot until the row is added again with its `entityId`.
 */
export function unpinnedEntity(entry: SamlIdpEntry): string | undefined {
  if (entry.metadataUrl === undefined || entry.entityId !== undefined) return undefined;
  return `metadata fetched from ${entry.metadataUrl} names no entityId: pinned to the entity of its first fetch by this process only; add it again with its entityId (node gateway/idps/cli.ts add)`;
}
