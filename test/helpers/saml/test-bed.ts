/**
 * A legacy SAML adapter wired to real services for a test: the SP key in a SoftHSM2 token (the `saml`
 * signer of a `TokenKeyStore`), Redis state through `RedisStateStore`, and a test IdP of our own.
 *
 * SoftHSM only sees tokens that existed when the module was initialised: a test file takes its
 * `freshToken()` at module scope, before the first bed is opened.
 */
import type { Redis } from 'ioredis';
import type { LoaUri, LoginResult } from '../../../adapters/contract.ts';
import type { LegacySamlIdpConfig, SamlSpConfig } from '../../../adapters/saml/config.ts';
import {
  createLegacySamlAdapter,
  type LegacySamlAdapter,
  type SamlAdapterExtras,
} from '../../../adapters/saml/legacy-adapter.ts';
import { RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { ensureKeys, openKeyStore, type TokenKeyStore } from '../../../hsm/token-keystore.ts';
import { selfSignedCertificate } from '../../../hsm/x509.ts';
import type { TokenHandle } from '../../harness/services/softhsm.ts';
import { redisPrefix, redisUrl } from '../services.ts';
import { baselineFields, responseXml, type ResponseFields } from './response-builder.ts';
import { createTestIdp, signElement, type TestIdp } from './test-idp.ts';

export const SP: Omit<SamlSpConfig, 'signingCertificatePem'> = {
  entityId: 'https://gateway.test.example/saml/metadata',
  acsUrl: 'https://gateway.test.example/saml/acs',
  metadataUrl: 'https://gateway.test.example/saml/metadata',
};

export interface SpKeys {
  store: TokenKeyStore;
  certificatePem: string;
}

/** Opens the token, makes sure a `saml` RS256 key exists, and self-signs its certificate in the token. */
export async function openSpKeys(token: TokenHandle): Promise<SpKeys> {
  const store = await openKeyStore({ library: token.library, tokenLabel: token.label, pin: token.pin });
  await ensureKeys(store, [{ purpose: 'saml', alg: 'RS256' }]);
  const certificatePem = await selfSignedCertificate(store.activeSigner('saml'), {
    subject: 'CN=gateway SAML SP (test)',
    days: 2,
  });
  return { store, certificatePem };
}

export interface SamlTestBed {
  idp: TestIdp;
  sp: SamlSpConfig;
  adapter: LegacySamlAdapter;
  state: RedisStateStore;
  /** The client under `state` (a test counts the writes on its socket). */
  redis: Redis;
  /** The Redis key prefix (a second bed given `sameDeploymentAs` shares it: another gateway instance). */
  prefix: string;
  /** Starts a login from `browser`; returns the AuthnRequest ID and the login id. */
  start(
    browser?: string,
    minimumLoa?: LoaUri,
    options?: { forceAuthn?: boolean; maxAuthenticationAgeSeconds?: number },
  ): Promise<{ requestId: string; loginId: string }>;
  /** Baseline Response fields answering `requestId`. */
  fields(requestId: string): ResponseFields;
  /** Response of `fields` with its Assertion signed by the test IdP. */
  signedResponse(f: ResponseFields): string;
  /** Posts `xml` to the adapter's finishLogin from `browser`. */
  finish(xml: string, browser?: string): Promise<LoginResult>;
  close(): Promise<void>;
}

export const BROWSER = 'browser-binding-A';

/**
 * Builds a bed; `idpConfig` overrides the IdP's registry entry (policy, maxLoa, names). With
 * `sameDeploymentAs`, the new bed is another gateway instance of that deployment: same IdP, same Redis
 * prefix, its own connection and adapter.
 */
export async function createSamlTestBed(
  keys: SpKeys,
  idpConfig: Partial<LegacySamlIdpConfig> = {},
  sameDeploymentAs?: SamlTestBed,
  extras: SamlAdapterExtras & { idp?: TestIdp; sloUrl?: string } = {},
): Promise<SamlTestBed> {
  const idp = sameDeploymentAs?.idp ?? extras.idp ?? (await createTestIdp());
  const prefix = sameDeploymentAs?.prefix ?? redisPrefix();
  const sp: SamlSpConfig = {
    ...SP,
    signingCertificatePem: keys.certificatePem,
    ...(extras.sloUrl ? { sloUrl: extras.sloUrl } : {}),
  };
  const redis: Redis = createRedis({ url: redisUrl(), keyPrefix: prefix });
  const state = new RedisStateStore(redis);
  const adapter = await createLegacySamlAdapter(
    {
      id: 'test-idp',
      displayName: 'Test IdP',
      metadataFile: idp.metadataFile,
      maxLoa: 'http://eidas.europa.eu/LoA/substantial',
      ...idpConfig,
    },
    sp,
    {
      keys: keys.store,
      state,
      digestKey: Buffer.alloc(32, 1),
      baseUrl: 'https://gateway.test.example',
      now: () => new Date(),
    },
    extras,
  ).catch(async (error: unknown) => {
    await redis.quit();
    throw error;
  });
  let logins = 0;
  return {
    idp,
    sp,
    adapter,
    state,
    redis,
    prefix,
    async start(browser = BROWSER, minimumLoa: LoaUri = 'http://eidas.europa.eu/LoA/substantial', options = {}) {
      const loginId = `login-${(logins += 1)}`;
      const started = await adapter.startLogin({
        loginId,
        browserBinding: browser,
        minimumLoa,
        forceAuthn: options.forceAuthn ?? false,
        ...(options.maxAuthenticationAgeSeconds === undefined
          ? {}
          : { maxAuthenticationAgeSeconds: options.maxAuthenticationAgeSeconds }),
      });
      if (started.binding !== 'post') throw new Error('expected the POST binding');
      const request = Buffer.from(started.fields['SAMLRequest']!, 'base64').toString('utf8');
      return { requestId: /\sID="([^"]+)"/.exec(request)![1]!, loginId };
    },
    // an honest IdP answers in the NameID format it is registered for (and was asked for)
    fields: (requestId) => ({
      ...baselineFields({ issuer: idp.entityId, acsUrl: sp.acsUrl, spEntityId: sp.entityId, inResponseTo: requestId }),
      ...(idpConfig.nameIdFormat ? { nameIdFormat: idpConfig.nameIdFormat } : {}),
    }),
    signedResponse: (f) =>
      signElement(responseXml(f), {
        id: f.assertionId,
        privateKey: idp.privateKey,
        certificatePem: idp.certificatePem,
      }),
    finish: (xml, browser = BROWSER) =>
      adapter.finishLogin({
        method: 'POST',
        params: { SAMLResponse: Buffer.from(xml, 'utf8').toString('base64') },
        browserBinding: browser,
      }),
    close: async () => {
      await redis.quit();
    },
  };
}
