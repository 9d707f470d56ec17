/**
 * Development PKI, on demand: runs `make-dev-pki.sh` when any expected file is missing and returns the PEMs.
 *
 * - Development material only: a CA and the demo SAML IdP's signing key + certificate (RSA 3072, SHA-256).
 * - The gateway's own SAML/OIDC keys are never here: they live in the HSM.
 * - Default directory `certs/generated/` (git-ignored); tests pass a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The PEMs of the development PKI and the directory holding them. */
export interface DevPki {
  /** PKCS#8 PEM private key of the demo IdP's SAML signing certificate. */
  idpKeyPem: string;
  /** PEM certificate of the demo IdP's SAML signing key, issued by the development CA. */
  idpCertPem: string;
  /** PEM certificate of the development CA. */
  caCertPem: string;
  /** Absolute directory the files live in. */
  dir: string;
}

const script = fileURLToPath(new URL('./make-dev-pki.sh', import.meta.url));
const defaultDir = fileURLToPath(new URL('./generated', import.meta.url));
const files = {
  idpKeyPem: 'demo-idp-signing.key.pem',
  idpCertPem: 'demo-idp-signing.cert.pem',
  caCertPem: 'ca.cert.pem',
} as const;

/**
 * Makes the development PKI in `dir` if any file is missing, then reads it.
 *
 * @param dir output directory; defaults to `certs/generated/`.
 * @returns the PEMs and the directory.
 * @example
 * const { idpKeyPem, idpCertPem } = ensureDevPki(); // certs/generated
 * const tmp = ensureDevPki(mkdtempSync(join(tmpdir(), 'pki-'))); // tests
 */
export function ensureDevPki(dir: string = defaultDir): DevPki {
  const paths = Object.values(files).map((name) => join(dir, name));
  if (!paths.every((path) => existsSync(path))) {
    execFileSync('bash', [script, dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  return {
    idpKeyPem: read(files.idpKeyPem),
    idpCertPem: read(files.idpCertPem),
    caCertPem: read(files.caCertPem),
    dir,
  };
}
