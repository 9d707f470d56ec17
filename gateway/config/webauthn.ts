/**
 * The `webauthn` block of the configuration (issue #10 item 10): who may enrol a credential and what it
 * may later stand in for.
 *
 * | key | default | meaning |
 * |---|---|---|
 * | `webauthn.level3CooldownHours` | `72` | hours a newly enrolled credential waits before it can satisfy a level-3 decision (a stolen password used to enrol a key gives the person three days to see the notice and remove it); 1 to 720 |
 * | `webauthn.attestation.rootCertificateFiles` | `[]` | PEM files of the attestation roots (e.g. from the FIDO Metadata Service for the security keys the deployment accepts). A level-3 credential must be enrolled with `direct` attestation whose certificate chain ends at one of them. **Empty: level 3 via WebAuthn is unavailable** (level-3 decisions go to manual review, as without a key) |
 * | `webauthn.attestation.trustedAaguids` | `[]` | when not empty, a level-3 credential's authenticator model (AAGUID, from the verified attestation) must be one of these |
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { array, integer, join, object, onlyKeys } from './check.ts';

export interface WebAuthnConfig {
  /** Seconds before a new credential may satisfy level 3. */
  level3CooldownSeconds: number;
  attestation: {
    /** PEM certificates of the attestation roots; empty = level 3 via WebAuthn unavailable. */
    rootCertificates: string[];
    /** Lower-case AAGUIDs allowed at level 3 (empty = any model under a trusted root). */
    trustedAaguids: string[];
  };
}

const AAGUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Validates the `webauthn` block (absent: the defaults, level 3 via WebAuthn unavailable).
 *
 * @example
 * parseWebAuthn({ level3CooldownHours: 72, attestation: { rootCertificateFiles: ['yubico-root.pem'] } }, '/etc/gateway')
 */
export function parseWebAuthn(raw: unknown, baseDir: string): WebAuthnConfig {
  const webauthn = object(raw ?? {}, 'webauthn');
  onlyKeys(webauthn, 'webauthn', ['level3CooldownHours', 'attestation']);
  const attestation = object(webauthn.attestation ?? {}, 'webauthn.attestation');
  onlyKeys(attestation, 'webauthn.attestation', ['rootCertificateFiles', 'trustedAaguids']);
  const files = array(attestation, 'rootCertificateFiles', 'webauthn.attestation', { optional: true });
  const rootCertificates = files.flatMap((file, i) => {
    const at = join('webauthn.attestation.rootCertificateFiles', i);
    if (typeof file !== 'string' || file === '') throw new ConfigError(at, 'must be a file path');
    let text: string;
    try {
      text = readFileSync(resolve(baseDir, file), 'utf8');
    } catch {
      throw new ConfigError(at, `cannot read ${file}`);
    }
    const pems = text.match(PEM) ?? [];
    if (pems.length === 0) throw new ConfigError(at, `${file} holds no PEM certificate`);
    for (const pem of pems) {
      try {
        new X509Certificate(pem);
      } catch {
        throw new ConfigError(at, `${file} holds a certificate that cannot be read`);
      }
    }
    return pems;
  });
  const trustedAaguids = array(attestation, 'trustedAaguids', 'webauthn.attestation', { optional: true }).map(
    (value, i) => {
      if (typeof value !== 'string' || !AAGUID.test(value.toLowerCase()))
        throw new ConfigError(join('webauthn.attestation.trustedAaguids', i), 'must be an AAGUID (8-4-4-4-12 hex)');
      return value.toLowerCase();
    },
  );
  const hours = integer(webauthn, 'level3CooldownHours', 'webauthn', { default: 72, min: 1, max: 720 });
  return { level3CooldownSeconds: hours * 3600, attestation: { rootCertificates, trustedAaguids } };
}
