/**
 * Attestation of level-3 credentials (issue #10 item 10): a credential that is to stand in for level 3
 * must prove it is a security key of a trusted model, not merely be reported `cross-platform` by the
 * browser.
 *
 * - the registration asks for `direct` attestation; the statement must be `packed` with a certificate
 *   chain (`x5c`; self attestation proves nothing) or `fido-u2f`; `none` or any other format is
 *   `WEBAUTHN_ATTESTATION_REQUIRED`;
 * - the chain must end at one of the configured roots (`webauthn.attestation.rootCertificateFiles`),
 *   verified by @simplewebauthn/server with those roots, and when `trustedAaguids` is not empty the
 *   authenticator model must be one of them: `WEBAUTHN_ATTESTATION_UNTRUSTED` otherwise;
 * - with no root configured nothing is trusted: `WEBAUTHN_LEVEL3_UNAVAILABLE`.
 *
 * The roots are handed to the library's process-wide SettingsService just before each verification
 * (the library reads them from there); one process serves one deployment.
 *
 * The root the chain ends at is recorded with the key (the SHA-256 of the root's public key, {@link rootOfChain}): a
 * root taken out of the configuration later no longer vouches for the keys it attested (credential-levels.ts). The
 * chain is walked from the attestation certificate itself, each certificate issued and signed by the next: a
 * certificate appended to `x5c` that the chain does not need (which the library ignores) cannot name another root.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { SettingsService } from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { WebAuthnError } from './webauthn-error.ts';

export interface AttestationTrust {
  rootCertificates: string[];
  trustedAaguids: string[];
}

/** The formats a roaming security key attests with. */
export const LEVEL3_FORMATS = ['packed', 'fido-u2f'] as const;

/** Makes the configured roots the library's trust anchors for the level-3 formats. */
export function installRoots(trust: AttestationTrust): void {
  if (trust.rootCertificates.length === 0)
    throw new WebAuthnError(
      'WEBAUTHN_LEVEL3_UNAVAILABLE',
      'Security keys are not accepted for this kind of sign-in here.',
      { status: 403 },
    );
  for (const identifier of LEVEL3_FORMATS)
    SettingsService.setRootCertificates({ identifier, certificates: trust.rootCertificates });
}

/** A root's name for the record: SHA-256 of its public key (SPKI DER), hex; a root issued again keeps it. */
function rootKeyId(root: X509Certificate): string {
  return createHash('sha256')
    .update(root.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

const fingerprintsOf = new WeakMap<readonly string[], string[]>();

/** The names ({@link rootKeyId}) of PEM root certificates; computed once per configured list. */
export function rootFingerprints(rootCertificates: readonly string[]): string[] {
  let known = fingerprintsOf.get(rootCertificates);
  if (!known) {
    known = rootCertificates.map((pem) => rootKeyId(new X509Certificate(pem)));
    fingerprintsOf.set(rootCertificates, known);
  }
  return known;
}

/** `certificate` names `issuer` as its issuer and carries its signature (what the library checks, no key usage). */
function issuedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  return certificate.issuer === issuer.subject && certificate.verify(issuer.publicKey);
}

/**
 * The configured root `x5c` (the attestation certificate first, then its chain, DER) ends at, by
 * {@link rootKeyId}: every certificate must name the next as its issuer and carry its signature, and the last must be
 * a configured root valid at `now` (a root listed in the configuration that the key sends itself: an intermediate
 * an operator listed) or be signed by exactly one configured root key valid at `now`. Undefined otherwise: a
 * certificate the chain does not need, or no root signing the last (the library validated the chain against these
 * roots, so an honest key never gets here).
 */
export function rootOfChain(
  x5c: readonly Uint8Array[],
  rootCertificates: readonly string[],
  now: Date = new Date(),
): string | undefined {
  const chain = x5c.map((der) => new X509Certificate(Buffer.from(der)));
  for (let i = 0; i + 1 < chain.length; i += 1) if (!issuedBy(chain[i]!, chain[i + 1]!)) return undefined;
  const last = chain[chain.length - 1];
  if (!last) return undefined;
  const valid = (root: X509Certificate) =>
    Date.parse(root.validFrom) <= now.getTime() && now.getTime() <= Date.parse(root.validTo);
  const roots = rootCertificates.map((pem) => new X509Certificate(pem)).filter(valid);
  const listed = roots.find((root) => root.fingerprint256 === last.fingerprint256);
  if (listed) return rootKeyId(listed);
  const ids = new Set(roots.filter((root) => issuedBy(last, root)).map(rootKeyId));
  // one key (a root issued again has the same): that is the one; none, or two keys signing it, is no answer
  return ids.size === 1 ? [...ids][0] : undefined;
}

/**
 * Checks what the library verified: a format with a certificate chain (the library validated it against
 * the roots installed above), and a trusted model. Returns the format and the root the chain ended at.
 *
 * @example
 * checkAttestation(trust, info.fmt, info.attestationObject, info.aaguid) // { format: 'packed', root: '3f9a…' (hex) }
 */
export function checkAttestation(
  trust: AttestationTrust,
  fmt: string,
  attestationObject: Uint8Array,
  aaguid: string,
): { format: string; root: string } {
  if (!(LEVEL3_FORMATS as readonly string[]).includes(fmt)) {
    throw new WebAuthnError(
      'WEBAUTHN_ATTESTATION_REQUIRED',
      'This security key did not prove what it is; use a security key that supports attestation.',
      { detail: `fmt ${fmt}` },
    );
  }
  const decoded = isoCBOR.decodeFirst<Map<string, unknown>>(new Uint8Array(attestationObject));
  const attStmt = decoded.get('attStmt') as Map<string, unknown> | undefined;
  const x5c = attStmt?.get('x5c');
  if (!Array.isArray(x5c) || x5c.length === 0) {
    throw new WebAuthnError(
      'WEBAUTHN_ATTESTATION_REQUIRED',
      'This security key did not prove what it is; use a security key that supports attestation.',
      { detail: `${fmt} without x5c (self attestation)` },
    );
  }
  if (trust.trustedAaguids.length > 0 && !trust.trustedAaguids.includes(aaguid.toLowerCase())) {
    throw new WebAuthnError('WEBAUTHN_ATTESTATION_UNTRUSTED', 'This model of security key is not accepted here.', {
      detail: `aaguid ${aaguid}`,
    });
  }
  const root = rootOfChain(x5c as Uint8Array[], trust.rootCertificates);
  if (root === undefined)
    throw new WebAuthnError('WEBAUTHN_ATTESTATION_UNTRUSTED', 'This security key is not vouched for here.', {
      detail: 'the attestation chain ends at no configured root',
    });
  return { format: fmt, root };
}
