/**
 * The pending LogoutRequest an IdP's LogoutResponse answers (SP-initiated Single Logout: `takePendingLogout`,
 * `adapters/saml/verify-logout/protocol.ts`) against its store, with a state store whose `take` can be made to
 * fail: the store failing, or a pending value that is not what `startLogout` writes, is `SAML_INTERNAL_ERROR`,
 * never a plain Error (which the gateway met as an unaudited 500); the gateway audits the coded refusal.
 */
import test from 'ava';
import { AdapterError } from '../../../adapters/contract.ts';
import { createLegacySamlAdapter } from '../../../adapters/saml/legacy-adapter.ts';
import { RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { offeredLogout } from '../../helpers/offered-logout.ts';
import { logoutResponseXml, postMessage, signedBy, successResponse } from '../../helpers/saml/logout-messages.ts';
import { createTestIdp, type TestIdp } from '../../helpers/saml/test-idp.ts';
import { openSpKeys, SP, type SpKeys } from '../../helpers/saml/test-bed.ts';
import { freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';

const token = freshToken();
const SLO = 'https://gateway.test.example/saml/slo';
const IDP_SLO = 'https://idp.test.example/slo';
const SESSION = {
  idp: 'slo-idp',
  subject: 'ada-4711',
  nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  sessionIndex: 'idx-1',
};
const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
const realState = new RedisStateStore(redis);
let takeFails = false;
const state = {
  put: (k: string, v: string, s: number) => realState.put(k, v, s),
  putIfAbsent: (k: string, v: string, s: number) => realState.putIfAbsent(k, v, s),
  get: (k: string) => realState.get(k),
  take: async (k: string) => {
    if (takeFails) throw new Error('Connection is closed.');
    return realState.take(k);
  },
};
let sp: SpKeys;

test.before(async () => {
  sp = await openSpKeys(token);
});
test.after.always(async () => {
  await redis.quit();
  await sp?.store.close();
});

async function logoutOf(idp: TestIdp) {
  const adapter = await createLegacySamlAdapter(
    { id: SESSION.idp, displayName: 'SLO IdP', metadataFile: idp.metadataFile, maxLoa: SP_LOA },
    { ...SP, sloUrl: SLO, signingCertificatePem: sp.certificatePem },
    {
      keys: sp.store,
      state,
      digestKey: Buffer.alloc(32, 1),
      baseUrl: 'https://gateway.test.example',
      now: () => new Date(),
    },
  );
  return offeredLogout(adapter);
}
const SP_LOA = 'http://eidas.europa.eu/LoA/substantial' as const;

/** Our LogoutRequest sent to a test IdP, and that IdP's signed Success answering it. */
async function answeredRequest(t: { fail: (m: string) => void }) {
  const idp = await createTestIdp({ slo: { post: IDP_SLO } });
  const logout = await logoutOf(idp);
  const start = await logout.startLogout({ logoutId: 'logout-s', relayState: 'relay-s', session: SESSION });
  if (start?.binding !== 'post') {
    t.fail('expected HTTP-POST');
    throw new Error('no start');
  }
  const requestId = /ID="([^"]+)"/.exec(Buffer.from(start.fields.SAMLRequest!, 'base64').toString('utf8'))![1]!;
  const answer = successResponse(idp, SLO, requestId);
  const response = postMessage('SAMLResponse', signedBy(logoutResponseXml(answer), answer.id, idp), 'relay-s');
  return { logout, requestId, response };
}

test.serial('the store failing as the response takes its pending request: SAML_INTERNAL_ERROR', async (t) => {
  const { logout, response } = await answeredRequest(t);
  takeFails = true;
  try {
    const error = await t.throwsAsync(logout.finishLogout(response), { instanceOf: AdapterError });
    t.is(error?.code, 'SAML_INTERNAL_ERROR');
  } finally {
    takeFails = false;
  }
});

for (const [what, value] of [
  ['not JSON', '{"logoutId": "logout-s"'],
  ['JSON of another shape', JSON.stringify({ logoutId: 7, idp: SESSION.idp, issuedAt: 'now' })],
  ['with keys startLogout never writes', JSON.stringify({ logoutId: 'x', idp: SESSION.idp, issuedAt: 'y', to: 1 })],
] as const)
  test.serial(`a pending value ${what}: SAML_INTERNAL_ERROR`, async (t) => {
    const { logout, requestId, response } = await answeredRequest(t);
    await redis.set(`adapter:saml:logout:pending:${requestId}`, value, 'KEEPTTL');
    t.is(await redis.get(`adapter:saml:logout:pending:${requestId}`), value, 'the key the adapter reads');
    const error = await t.throwsAsync(logout.finishLogout(response), { instanceOf: AdapterError });
    t.is(error?.code, 'SAML_INTERNAL_ERROR');
  });

test.serial('a pending request of another IdP is still unknown here: SAML_LOGOUT_INRESPONSETO_UNKNOWN', async (t) => {
  const { logout, requestId, response } = await answeredRequest(t);
  const other = JSON.stringify({ logoutId: 'logout-s', idp: 'another-idp', issuedAt: new Date().toISOString() });
  await redis.set(`adapter:saml:logout:pending:${requestId}`, other, 'KEEPTTL');
  const error = await t.throwsAsync(logout.finishLogout(response), { instanceOf: AdapterError });
  t.is(error?.code, 'SAML_LOGOUT_INRESPONSETO_UNKNOWN');
});
