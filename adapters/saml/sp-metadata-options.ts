/** What shapes our SP metadata besides the SP's own description (config.ts carries it; sp-metadata.ts builds it). */

/**
 * How long a published document stays valid (`validUntil` = signing time + validity) and how often IdPs
 * should fetch it again (`cacheDuration`). Validated by `validateSpMetadataTimes`.
 */
export interface SpMetadataTimes {
  validitySeconds: number;
  cacheDurationSeconds: number;
}

export interface SpMetadataOptions {
  /** Signing certificates besides `sp.signingCertificatePem` (next keys, ahead of rotation). */
  nextSigningCertificates?: string[];
  /** Decryption certificates besides `sp.encryptionCertificatePem` (next keys). */
  nextEncryptionCertificates?: string[];
  /** Complete children of `md:Extensions`, already escaped (built by a profile). */
  extensionsXml?: string;
  /** Extra namespace declarations on the root, e.g. `{ eidas: NS.eidas }`. */
  namespaces?: Record<string, string>;
  /** NameID formats we accept. */
  nameIdFormats?: string[];
  /** A complete `md:AttributeConsumingService`, already escaped (eIDAS: the attributes we may request). */
  attributeConsumingServiceXml?: string;
  /** validUntil and cacheDuration; default `DEFAULT_SP_METADATA_TIMES`. */
  times?: SpMetadataTimes;
}
