/**
 * The reference protocol (`adapters/reference/`) as an upstream protocol module: its optional configuration
 * section (`reference`), its start (one adapter per IdP, each with the public JWK read from its file) and its
 * routes. It is the smallest complete module: copy it for a new protocol.
 *
 * | method | path                 | kind           | what |
 * |--------|----------------------|----------------|------|
 * | POST   | /reference/response  | login-response | the IdP's answer: `assertion` (compact JWS) and `state` (the correlation value) |
 * | GET    | /reference/metadata  | document       | our audience and response URL, as JSON |
 */
import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { AdapterError } from '../contract.ts';
import type { SectionContext } from '../contract/config-schema.ts';
import type { AdapterRoute } from '../contract/routes.ts';
import { referenceSectionSchema, type ReferenceSection } from '../reference/config.ts';
import { createReferenceAdapter, type ReferenceEndpoints } from '../reference/reference-adapter.ts';
import type { RunningUpstream, UpstreamDeps, UpstreamProtocol } from './protocol.ts';

export const RESPONSE_PATH = '/reference/response';
export const REFERENCE_METADATA_PATH = '/reference/metadata';
const STATE = /^[A-Za-z0-9_-]{1,80}$/;

export const referenceProtocol = {
  name: 'reference',
  configKey: 'reference',
  required: false,
  configSchema: (context: SectionContext) => referenceSectionSchema(context),
  start: startReference,
} as const satisfies UpstreamProtocol<ReferenceSection>;

function readJwk(file: string, path: string): JWK {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } catch (error) {
    throw new AdapterError('REF_CONFIG_INVALID', 'The identity provider key file cannot be read as a JWK.', {
      detail: path,
      cause: error,
    });
  }
}

async function startReference(section: ReferenceSection, deps: UpstreamDeps): Promise<RunningUpstream> {
  const endpoints: ReferenceEndpoints = {
    audience: section.audience,
    responseUrl: `${deps.context.baseUrl}${RESPONSE_PATH}`,
  };
  const adapters = [];
  for (const [i, idp] of section.idps.entries()) {
    const adapter = await createReferenceAdapter(
      idp,
      readJwk(idp.publicKeyFile, `idps[${i}].publicKeyFile`),
      endpoints,
      deps.context,
    ).catch((error: unknown) => {
      // name the entry: the gateway turns a config error into a boot error at this path
      if (error instanceof AdapterError && error.detail?.startsWith('idps[') !== true)
        throw new AdapterError(error.code, error.message, { detail: `idps[${i}]`, cause: error });
      throw error;
    });
    adapters.push({ adapter, issuer: idp.issuer });
  }
  return { adapters, routes: referenceRoutes(endpoints), stop: async () => undefined };
}

/** The routes of the reference protocol. */
export function referenceRoutes(endpoints: ReferenceEndpoints): AdapterRoute[] {
  return [
    {
      kind: 'login-response',
      method: 'POST',
      path: RESPONSE_PATH,
      maxBodyBytes: 32 * 1024,
      correlation: (params) => (STATE.test(params.state ?? '') ? params.state : undefined),
      codes: { correlationInvalid: 'REF_STATE_UNKNOWN', loginMismatch: 'REF_STATE_UNKNOWN', replayed: 'REF_REPLAY' },
    },
    {
      kind: 'document',
      method: 'GET',
      path: REFERENCE_METADATA_PATH,
      serve: async () => ({
        status: 200,
        contentType: 'application/json',
        headers: { 'Cache-Control': 'public, max-age=3600' },
        body: JSON.stringify({ audience: endpoints.audience, response_uri: endpoints.responseUrl }),
      }),
    },
  ];
}
