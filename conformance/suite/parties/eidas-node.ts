/**
 * The suite's eIDAS node as a party of a run: the programmable Proxy-Service of
 * `conformance/saml-idp/eidas`, started by the CLI (or a test) and registered by the operator as an eIDAS
 * IdP (`kind: "eidas"`, metadata by URL, the node's trust anchor). Checks drive it through overrides
 * (what the node signs and encrypts) and, as for the SAML IdP, XML mutation before the ACS post.
 */
import { ensureNodeKeys } from '../../saml-idp/eidas/node-keys.ts';
import { startEidasNode, type EidasNode, type EidasOverrides } from '../../saml-idp/eidas/server.ts';
import { ERIKA } from '../../saml-idp/eidas/messages.ts';

/** What checks need of the node. */
export interface SuiteEidasNode {
  /** The node's id in the deployment's registry (`idp_hint`). */
  idpId: string;
  entityId: string;
  metadataUrl: string;
  trustAnchorPem: string;
  /** The person the node logs in, and the password. */
  user: { username: string; password: string };
  /** The AuthnRequests the node received (XML), latest last. */
  readonly requests: readonly string[];
  setOverrides(overrides: EidasOverrides | undefined): void;
}

/** Options of `startSuiteEidasNode`. */
export interface SuiteEidasNodeOptions {
  idpId: string;
  /** TCP port on 127.0.0.1 (0 = any). */
  port: number;
  baseUrl?: string;
  spMetadataUrl: string;
  /** Directory holding (or receiving) the node's keys; stable across runs so the registration holds. */
  keysDir: string;
}

/**
 * Starts the suite's eIDAS node.
 *
 * @example const { node, stop } = await startSuiteEidasNode({ idpId: 'conformance-eidas', port: 7401, spMetadataUrl, keysDir: 'var/conformance-eidas' });
 */
export async function startSuiteEidasNode(
  options: SuiteEidasNodeOptions,
): Promise<{ node: SuiteEidasNode; server: EidasNode; stop(): Promise<void> }> {
  const server = await startEidasNode({
    port: options.port,
    spMetadataUrl: options.spMetadataUrl,
    keys: await ensureNodeKeys(options.keysDir),
    ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
  });
  return { node: suiteEidasNodeOf(server, options.idpId), server, stop: () => server.stop() };
}

/**
 * Wraps a running node.
 *
 * @example const node = suiteEidasNodeOf(server, 'conformance-eidas');
 */
export function suiteEidasNodeOf(server: EidasNode, idpId: string): SuiteEidasNode {
  return {
    idpId,
    entityId: server.entityId,
    metadataUrl: server.metadataUrl,
    trustAnchorPem: server.trustAnchorPem,
    user: { username: ERIKA.username, password: `${ERIKA.username}-demo` },
    get requests() {
      return server.requests;
    },
    setOverrides: (o) => server.setOverrides(o),
  };
}
