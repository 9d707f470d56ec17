/**
 * The `webauthn` block of the configuration (issue #10 item 10): who may enrol a credential and what it
 * may later stand in for.
 *
 * | key | default | meaning |
 * |---|---|---|
 * | `webauthn.level3CooldownHours` | `72` | hours a newly enrolled credential waits before it can satisfy a level-3 decision (a stolen password used to enrol a key gives the person three days to see the notice and remove it); 1 to 720 |
 * | `webauthn.attestation.rootCertificateFiles` | `[]` | PEM files of the attestation roots (e.g. from the FIDO Metadata Service for the security keys the deployment accepts). A level-3 credential must be enrolled with `direct` attestation whose certificate chain ends at one of them. **Empty: level 3 via WebAuthn is unavailable** (level-3 decisions go to manual review, as without a key) |
 * | `webauthn.level3UserVerification` | `true` | level 3 needs the security key to verify the person (its PIN or a fingerprint on the key: possession and knowledge), at enrolment and at each use (`WEBAUTHN_USER_NOT_VERIFIED`); `false` accepts possession alone (keys without a PIN, U2F-only keys) |
 * | `webauthn.attestation.trustedAaguids` | `[]` | when not empty, a level-3 credential's authenticator model (AAGUID, from the verified attestation) must be one of these, at enrolment and at each use |
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { bool, int, list, section } from './fields.ts';
import { parseWith } from './schema-error.ts';

export interface WebAuthnConfig {
  /** Seconds before a new credential may satisfy level 3. */
  level3CooldownSeconds: number;
  /** Level 3 asks the security key to verify the person (its PIN, or a fingerprint on the key): true by default. */
  level3UserVerification: boolean;
  attestation: {
    /** PEM certificates of the attestation roots; empty = level 3 via WebAuthn unavailable. */
    rootCertificates: string[];
    /** Lower-case AAGUIDs allowed at level 3 (empty = any model under a trusted root). */
    trustedAaguids: string[];
  };
}

const AAGUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** A PEM file of attestation roots, resolved against `baseDir`: its certificates, each readable. */
function rootFile(baseDir: string) {
  return z
    .string('must be a file path')
    .min(1, 'must be a file path')
    .transform((file, ctx) => {
      let text: string;
      try {
        text = readFileSync(resolve(baseDir, file), 'utf8');
      } catch {
        ctx.addIssue({ code: 'custom', message: `cannot read ${file}` });
        return z.NEVER;
      }
      const pems = text.match(PEM) ?? [];
      if (pems.length === 0) ctx.addIssue({ code: 'custom', message: `${file} holds no PEM certificate` });
      for (const pem of pems) {
        try {
          new X509Certificate(pem);
        } catch {
          ctx.addIssue({ code: 'custom', message: `${file} holds a certificate that cannot be read` });
          break;
        }
      }
      return pems;
    });
}

const aaguid = z
  .string('must be an AAGUID (8-4-4-4-12 hex)')
  .transform((value) => value.toLowerCase())
  .refine((value) => AAGUID.test(value), 'must be an AAGUID (8-4-4-4-12 hex)');

/** The `webauthn` section (absent: the defaults, level 3 via WebAuthn unavailable). */
export function webauthnSchema(baseDir: string) {
  return section({
    level3CooldownHours: int(1, 720).default(72),
    level3UserVerification: bool().default(true),
    attestation: section({
      rootCertificateFiles: list(rootFile(baseDir)).default([]),
      trustedAaguids: list(aaguid).default([]),
    }),
  }).transform(({ level3CooldownHours, level3UserVerification, attestation }): WebAuthnConfig => ({
    level3CooldownSeconds: level3CooldownHours * 3600,
    level3UserVerification,
    attestation: {
      rootCertificates: attestation.rootCertificateFiles.flat(),
      trustedAaguids: attestation.trustedAaguids,
    },
  }));
}

/**
 * Validates the `webauthn` block.
 *
 * @example
 * parseWebAuthn({ level3CooldownHours: 72, attestation: { rootCertificateFiles: ['yubico-root.pem'] } }, '/etc/gateway')
 */
export function parseWebAuthn(raw: unknown, baseDir: string): WebAuthnConfig {
  return parseWith(webauthnSchema(baseDir), raw, 'webauthn');
}
