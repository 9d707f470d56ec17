/**
 * The suite's SAML IdP: the programmable samlify IdP of `conformance/saml-idp`, started by the CLI (or a
 * test) and registered by the operator in the deployment from its metadata. Checks drive it two ways:
 * response overrides (the IdP signs falsified values) and XML mutation just before the browser posts the
 * Response to the ACS (wrapping, stripping, re-signing with `keys` or an attacker's key).
 */
import { ensureDevPki } from '../../../certs/dev-pki.ts';
import { startDemoIdp, type DemoIdp } from '../../saml-idp/index.ts';
import type { ResponseOverrides } from '../../saml-idp/build-response.ts';

/** What checks need of the IdP. */
export interface SuiteIdp {
  /** The IdP's id in the deployment's registry (`idp_hint`). */
  idpId: string;
  entityId: string;
  metadataUrl: string;
  /** The IdP's genuine signing key (the suite may sign anything the IdP could). */
  keys: { privateKeyPem: string; certPem: string };
  /** A demo user of the IdP and their password. */
  user: { username: string; password: string };
  setResponseOverrides(overrides: ResponseOverrides | undefined): void;
}

/** Options of `startSuiteIdp`. */
export interface SuiteIdpOptions {
  idpId: string;
  /** TCP port on 127.0.0.1 (0 = any). */
  port: number;
  /** Public base URL when behind a proxy; default `http://127.0.0.1:<port>`. */
  baseUrl?: string;
  /** The deployment's SP metadata URL. */
  spMetadataUrl: string;
  /** Directory holding (or receiving) the IdP's key and certificate; stable across runs so the registration holds. */
  keysDir: string;
}

/**
 * Starts the suite's IdP.
 *
 * @example const { idp, stop } = await startSuiteIdp({ idpId: 'conformance-idp', port: 7400, spMetadataUrl, keysDir: 'var/conformance' });
 */
export async function startSuiteIdp(
  options: SuiteIdpOptions,
): Promise<{ idp: SuiteIdp; server: DemoIdp; stop(): Promise<void> }> {
  const pki = ensureDevPki(options.keysDir);
  const server = await startDemoIdp({
    port: options.port,
    spMetadataUrl: options.spMetadataUrl,
    keys: pki,
    ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
  });
  return {
    idp: suiteIdpOf(server, options.idpId, { privateKeyPem: pki.idpKeyPem, certPem: pki.idpCertPem }),
    server,
    stop: () => server.stop(),
  };
}

/**
 * Wraps an already running demo IdP (tests start it through the deployment harness).
 *
 * @example const idp = suiteIdpOf(demoIdp, 'conformance-idp', { privateKeyPem, certPem });
 */
export function suiteIdpOf(server: DemoIdp, idpId: string, keys: { privateKeyPem: string; certPem: string }): SuiteIdp {
  return {
    idpId,
    entityId: server.entityId,
    metadataUrl: server.metadataUrl,
    keys,
    user: { username: 'marie', password: 'marie-demo' },
    setResponseOverrides: (o) => server.setResponseOverrides(o),
  };
}
