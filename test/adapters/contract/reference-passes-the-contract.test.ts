/**
 * The reference adapter passes the adapter contract suite (`suite.ts`): a test IdP signs ES256 assertions
 * with a key made at test time; state in Redis.
 */
import test from 'ava';
import type { KeyStore } from '../../../hsm/signer.ts';
import { createReferenceAdapter } from '../../../adapters/reference/reference-adapter.ts';
import { RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { createReferenceIdp, strangerKey } from '../../helpers/reference/reference-idp.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';
import { contractSuite, type ContractSubject, type Defect } from './suite.ts';

const SUBSTANTIAL = 'http://eidas.europa.eu/LoA/substantial';
export const AUDIENCE = 'https://gateway.test.example/reference';

async function open(): Promise<ContractSubject> {
  const idp = await createReferenceIdp();
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  const adapter = await createReferenceAdapter(
    {
      id: 'reference-idp',
      displayName: 'Reference IdP',
      issuer: idp.issuer,
      authorizeUrl: 'https://reference-idp.test.example/authorize',
      publicKeyFile: idp.publicKeyFile,
      algorithm: 'ES256',
      maxLoa: SUBSTANTIAL,
      clockSkewSeconds: 60,
      maxAuthenticationAgeSeconds: 8 * 3600,
    },
    idp.publicJwk,
    { audience: AUDIENCE, responseUrl: 'https://gateway.test.example/reference/response' },
    // the reference adapter signs nothing: no key store is needed
    {
      keys: {} as KeyStore,
      state: new RedisStateStore(redis),
      digestKey: Buffer.alloc(32, 1),
      baseUrl: 'https://gateway.test.example',
      now: () => new Date(),
    },
  );
  const stranger = await strangerKey();
  return {
    adapter,
    unreachable: 'http://eidas.europa.eu/LoA/high',
    codes: {
      'bad-signature': 'REF_SIGNATURE_INVALID',
      'wrong-audience': 'REF_AUDIENCE_INVALID',
      expired: 'REF_EXPIRED',
      'unknown-loa': 'REF_LOA_UNKNOWN',
      replay: 'REF_REPLAY',
      'wrong-browser': 'REF_STATE_SESSION_MISMATCH',
    },
    // the reference protocol has no single logout, and says so
    logout: { offered: false },
    async start(browser) {
      const loginId = `contract-${Math.random().toString(36).slice(2)}`;
      const start = await adapter.startLogin({
        loginId,
        browserBinding: browser,
        minimumLoa: SUBSTANTIAL,
        forceAuthn: false,
      });
      if (start.binding !== 'redirect') throw new Error('expected a redirect');
      const nonce = new URL(start.url).searchParams.get('nonce')!;
      const now = Math.floor(Date.now() / 1000);
      return {
        loginId,
        start,
        async answer(defect?: Defect) {
          const claims: Record<string, unknown> = {
            ...(defect === 'wrong-audience' ? { aud: 'https://another-gateway.example/reference' } : {}),
            ...(defect === 'expired' ? { iat: now - 600, exp: now - 300, auth_time: now - 600 } : {}),
            ...(defect === 'unknown-loa' ? { loa: 'http://eidas.europa.eu/LoA/medium' } : {}),
          };
          const options = defect === 'bad-signature' ? { key: stranger } : {};
          return {
            assertion: await idp.assertion({ audience: AUDIENCE, nonce }, claims, options),
            state: start.correlation,
          };
        },
      };
    },
    async close() {
      await redis.quit();
    },
  };
}

contractSuite(test, 'reference', open, { logout: 'not offered' });
