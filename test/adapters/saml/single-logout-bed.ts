/**
 * The bed of the SAML Single Logout tests of the adapter: this test file's own token (its SP keys), Redis state,
 * a legacy SAML adapter for a test IdP, and a session. Importing it registers the hooks that open and close them.
 */
import test from 'ava';
import type { UpstreamLogout } from '../../../adapters/contract.ts';
import { createLegacySamlAdapter } from '../../../adapters/saml/legacy-adapter.ts';
import type { SamlAdapter } from '../../../adapters/saml/saml-adapter.ts';
import { RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { offeredLogout } from '../../helpers/offered-logout.ts';
import { freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';
import type { TestIdp } from '../../helpers/saml/test-idp.ts';
import { openSpKeys, SP, type SpKeys } from '../../helpers/saml/test-bed.ts';

const token = freshToken();
export const SLO = 'https://gateway.test.example/saml/slo';
export const IDP_SLO = 'https://idp.test.example/slo';
const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
export const state = new RedisStateStore(redis);
export let keys: SpKeys;

test.before(async () => {
  keys = await openSpKeys(token);
});
test.after.always(async () => {
  await redis.quit();
  await keys?.store.close();
});

export async function adapterFor(idp: TestIdp, id = 'slo-idp'): Promise<SamlAdapter> {
  return createLegacySamlAdapter(
    { id, displayName: 'SLO IdP', metadataFile: idp.metadataFile, maxLoa: 'http://eidas.europa.eu/LoA/substantial' },
    { ...SP, sloUrl: SLO, signingCertificatePem: keys.certificatePem },
    {
      keys: keys.store,
      state,
      digestKey: Buffer.alloc(32, 1),
      baseUrl: 'https://gateway.test.example',
      now: () => new Date(),
    },
  );
}

export const logoutOf = (adapter: SamlAdapter): UpstreamLogout => offeredLogout(adapter);
export const SESSION = {
  idp: 'slo-idp',
  subject: 'ada-4711',
  nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  sessionIndex: 'idx-1',
};
