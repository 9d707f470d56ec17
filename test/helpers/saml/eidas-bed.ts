/**
 * An eIDAS adapter wired to real services for a test: SP signing keys (RS256 for legacy, PS256 for
 * eIDAS) in a SoftHSM2 token, Redis state, a decrypter, and a test eIDAS node (`eidas-node.ts`) whose
 * responses are built per test: encrypted or not, signed with PSS or ECDSA, any person.
 */
import type { Redis } from 'ioredis';
import type { LoginResult } from '../../../adapters/contract.ts';
import { createEidasAdapter } from '../../../adapters/eidas/eidas-adapter.ts';
import type { EidasIdpConfig } from '../../../adapters/eidas/config.ts';
import type { SamlAdapter } from '../../../adapters/saml/saml-adapter.ts';
import type { SamlSpConfig } from '../../../adapters/saml/config.ts';
import type { KeyTransportDecrypter } from '../../../adapters/saml/xmlenc/decrypter.ts';
import { hsmSamlDecrypter } from '../../../adapters/saml/xmlenc/hsm-decrypter.ts';
import { RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import type { AlgorithmName } from '../../../hsm/algorithms.ts';
import { ensureKeys, openKeyStore, type TokenKeyStore } from '../../../hsm/token-keystore.ts';
import { selfSignedCertificate } from '../../../hsm/x509.ts';
import type { TokenHandle } from '../../harness/services/softhsm.ts';
import { redisPrefix, redisUrl } from '../services.ts';
import {
  eidasAssertionXml,
  eidasAttributes,
  eidasResponseXml,
  ERIKA,
  nodeKey,
  nodeMetadataXml,
  PSS_SHA256,
  signAsNode,
  writeMetadataFile,
  type EidasPerson,
  type NodeKey,
  type NodeKeyKind,
} from './eidas-node.ts';
import { samlId } from './response-builder.ts';
import { encryptAssertion, type EncryptOptions } from './xml-encrypt.ts';
import { SP } from './test-bed.ts';

export const HIGH = 'http://eidas.europa.eu/LoA/high';
export const SUBSTANTIAL = 'http://eidas.europa.eu/LoA/substantial';
export const LOW = 'http://eidas.europa.eu/LoA/low';

export interface EidasSpKeys {
  store: TokenKeyStore;
  rsaCertificatePem: string;
  eidasAlg: AlgorithmName;
  eidasCertificatePem: string;
}

/**
 * The HSM decrypter of the bed's token (a `saml_decryption` RSA key, OAEP inside SoftHSM: SHA-1 only),
 * with a certificate issued by the `saml` signing key.
 */
export async function hsmDecrypter(keys: EidasSpKeys): Promise<KeyTransportDecrypter> {
  return (await hsmSamlDecrypter(
    keys.store,
    keys.store.activeSigner('saml', 'RS256'),
    'CN=gateway SAML decryption (test)',
  ))!;
}

/** Opens the token with a `saml` RS256 key (legacy), an eIDAS key (PS256 by default) and a decryption key. */
export async function openEidasSpKeys(token: TokenHandle, eidasAlg: AlgorithmName = 'PS256'): Promise<EidasSpKeys> {
  const store = await openKeyStore({ library: token.library, tokenLabel: token.label, pin: token.pin });
  await ensureKeys(store, [
    { purpose: 'saml', alg: 'RS256' },
    { purpose: 'saml', alg: eidasAlg },
    { purpose: 'saml_decryption', alg: 'RS256' },
  ]);
  const rsaCertificatePem = await selfSignedCertificate(store.activeSigner('saml', 'RS256'), {
    subject: 'CN=gateway SAML SP (test)',
    days: 2,
  });
  const eidasCertificatePem = await selfSignedCertificate(store.activeSigner('saml', eidasAlg), {
    subject: 'CN=gateway eIDAS SP (test)',
    days: 2,
  });
  return { store, rsaCertificatePem, eidasAlg, eidasCertificatePem };
}

export interface ResponseOptions {
  person?: EidasPerson;
  loa?: string;
  /** Encrypt the assertion (default) with these options; `false` sends it in clear. */
  encrypt?: EncryptOptions | false;
  signResponse?: boolean;
  signAssertion?: boolean;
  /** Signature method of the node (default the bed's). */
  method?: string;
  /** Override the attributes entirely. */
  attributes?: Record<string, string[]>;
  nameFormat?: string;
  now?: Date;
  /** Encrypt to this certificate instead of our decryption certificate. */
  recipientCertificatePem?: string;
  /** The AudienceRestriction's Audience (default our entityID). */
  audience?: string;
}

export interface EidasBed {
  node: NodeKey;
  entityId: string;
  sp: SamlSpConfig;
  adapter: SamlAdapter;
  state: RedisStateStore;
  start(options?: {
    minimumLoa?: string;
    forceAuthn?: boolean;
  }): Promise<{ requestId: string; loginId: string; requestXml: string }>;
  response(requestId: string, options?: ResponseOptions): string;
  finish(xml: string): Promise<LoginResult>;
  close(): Promise<void>;
}

export const BROWSER = 'browser-binding-eidas';

/** Builds a bed around a fresh node key of `kind`, signing with `method`. */
export async function createEidasBed(
  keys: EidasSpKeys,
  decrypter: KeyTransportDecrypter,
  options: { kind?: NodeKeyKind; method?: string; idp?: Partial<EidasIdpConfig>; sloUrl?: string } = {},
): Promise<EidasBed> {
  const node = await nodeKey(options.kind ?? 'rsa');
  const method = options.method ?? PSS_SHA256;
  const entityId = 'https://eidas-node.test.example/metadata';
  const metadataFile = await writeMetadataFile(
    nodeMetadataXml({
      entityId,
      ssoUrl: 'https://eidas-node.test.example/sso',
      signingCertificates: [node.certificatePem],
      ...(options.sloUrl ? { sloUrl: 'https://eidas-node.test.example/slo' } : {}),
    }),
  );
  const sp: SamlSpConfig = {
    ...SP,
    signingCertificatePem: keys.rsaCertificatePem,
    encryptionCertificatePem: decrypter.certificatePem,
    ...(options.sloUrl ? { sloUrl: options.sloUrl } : {}),
  };
  const redis: Redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  const state = new RedisStateStore(redis);
  const adapter = await createEidasAdapter(
    { id: 'eidas-de', displayName: 'eIDAS (Germany)', metadataFile, maxLoa: HIGH, country: 'DE', ...options.idp },
    sp,
    {
      keys: keys.store,
      state,
      digestKey: Buffer.alloc(32, 1),
      baseUrl: 'https://gateway.test.example',
      now: () => new Date(),
    },
    {
      signing: { signer: keys.store.activeSigner('saml', keys.eidasAlg), certificatePem: keys.eidasCertificatePem },
      decrypter,
    },
  ).catch(async (error: unknown) => {
    await redis.quit();
    throw error;
  });
  let logins = 0;
  return {
    node,
    entityId,
    sp,
    adapter,
    state,
    async start(startOptions = {}) {
      const loginId = `eidas-login-${(logins += 1)}`;
      const started = await adapter.startLogin({
        loginId,
        browserBinding: BROWSER,
        minimumLoa: (startOptions.minimumLoa ?? SUBSTANTIAL) as typeof HIGH,
        forceAuthn: startOptions.forceAuthn ?? false,
      });
      if (started.binding !== 'post') throw new Error('expected the POST binding');
      const requestXml = Buffer.from(started.fields['SAMLRequest']!, 'base64').toString('utf8');
      return { requestId: /\sID="([^"]+)"/.exec(requestXml)![1]!, loginId, requestXml };
    },
    response(requestId, r = {}) {
      const now = r.now ?? new Date();
      const assertionId = samlId();
      const responseId = samlId();
      let assertion = eidasAssertionXml({
        id: assertionId,
        issuer: entityId,
        now,
        inResponseTo: requestId,
        acsUrl: sp.acsUrl,
        audience: r.audience ?? sp.entityId,
        nameId: '0123456789abcdef',
        loa: r.loa ?? HIGH,
        attributes: r.attributes ?? eidasAttributes(r.person ?? ERIKA),
        ...(r.nameFormat ? { nameFormat: r.nameFormat } : {}),
      });
      if (r.signAssertion)
        assertion = signAsNode(assertion, { id: assertionId, key: node, method: r.method ?? method });
      const body =
        r.encrypt === false
          ? assertion
          : encryptAssertion(assertion, r.recipientCertificatePem ?? decrypter.certificatePem, r.encrypt ?? {});
      const response = eidasResponseXml({
        id: responseId,
        issuer: entityId,
        now,
        inResponseTo: requestId,
        destination: sp.acsUrl,
        body,
      });
      return r.signResponse === false
        ? response
        : signAsNode(response, { id: responseId, key: node, method: r.method ?? method });
    },
    finish: (xml) =>
      adapter.finishLogin({
        method: 'POST',
        params: { SAMLResponse: Buffer.from(xml, 'utf8').toString('base64') },
        browserBinding: BROWSER,
      }),
    close: async () => {
      await redis.quit();
    },
  };
}
