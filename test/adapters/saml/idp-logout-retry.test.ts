/**
 * The SAML adapter's answer to an IdP LogoutRequest that the HSM could not sign, kept for the same request sent
 * again (`adapters/saml/logout-retry.ts`), with this file's own SoftHSM2 token opened with one session and no
 * waiting (holding it makes every signature `HSM_BUSY`):
 *
 * - the first attempt ends the sessions, then throws `UnansweredLogout` (sessions, `first`, kept);
 * - the retry is answered (`attempt: 'retry'`) by the binding and ResponseLocation kept, `end` not called; after
 *   that the request is a replay;
 * - a retry must pass every check again: a broken signature, a lapsed time window are refused with their codes;
 *   another request under the kept ID is a replay; none of them uses up the kept answer;
 * - a retry the caller does not let take the kept answer (`takesKeptAnswer` false: the gateway, for a copy from
 *   another browser) is answered with it left in place, so the caller's own retry still finds it.
 */
import { inflateRawSync } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { AdapterError, AnsweredLogoutRefusal, UnansweredLogout } from '../../../adapters/contract.ts';
import { createLegacySamlAdapter } from '../../../adapters/saml/legacy-adapter.ts';
import { RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { openKeyStore, type TokenKeyStore } from '../../../hsm/token-keystore.ts';
import { offeredLogout } from '../../helpers/offered-logout.ts';
import {
  logoutRequestFields,
  logoutRequestXml,
  postMessage,
  redirectMessage,
  signedBy,
} from '../../helpers/saml/logout-messages.ts';
import { createTestIdp, type TestIdp } from '../../helpers/saml/test-idp.ts';
import { openSpKeys, SP, type SpKeys } from '../../helpers/saml/test-bed.ts';
import { freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';
import { IDP_SLO, SLO } from './single-logout-bed.ts';

const token = freshToken();
const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
const state = new RedisStateStore(redis);
let sp: SpKeys;
let oneSession: TokenKeyStore;
let clock = () => new Date();

test.before(async () => {
  sp = await openSpKeys(token); // makes the SAML key and its certificate
  oneSession = await openKeyStore({
    library: token.library,
    tokenLabel: token.label,
    pin: token.pin,
    poolSize: 1,
    maxWaiting: 0,
  });
});
test.after.always(async () => {
  await redis.quit();
  await oneSession?.close();
  await sp?.store.close();
});

async function logoutOf(idp: TestIdp) {
  const adapter = await createLegacySamlAdapter(
    { id: 'retry-idp', displayName: 'Retry IdP', metadataFile: idp.metadataFile, maxLoa: SP_LOA },
    { ...SP, sloUrl: SLO, signingCertificatePem: sp.certificatePem },
    {
      keys: oneSession,
      state,
      digestKey: Buffer.alloc(32, 1),
      baseUrl: 'https://gateway.test.example',
      now: () => clock(),
    },
  );
  return offeredLogout(adapter);
}
const SP_LOA = 'http://eidas.europa.eu/LoA/substantial' as const;

/** Runs `action` while the token's only session is held. */
async function whileBusy<T>(action: () => Promise<T>): Promise<T> {
  let release!: () => void;
  const holding = oneSession.token.run(() => new Promise<void>((resolve) => (release = resolve)));
  try {
    return await action();
  } finally {
    release();
    await holding;
  }
}

function codesWithin(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) if ('code' in e) codes.push(String(e.code));
  return codes;
}

async function unanswered(t: ExecutionContext, attempt: Promise<unknown>) {
  const error = await whileBusy(() => t.throwsAsync(attempt, { instanceOf: UnansweredLogout }));
  return error as UnansweredLogout;
}

test.serial(
  'the retry of an unanswered request gets the kept answer by its binding, nothing ended; then a replay',
  async (t) => {
    const idp = await createTestIdp({ slo: { redirect: IDP_SLO } });
    const logout = await logoutOf(idp);
    const fields = logoutRequestFields(idp, SLO, 'ada-4711');
    const message = redirectMessage('SAMLRequest', logoutRequestXml(fields), {
      privateKey: idp.privateKey,
      relayState: 'rs-1',
    });
    let ended = 0;
    const end = async () => ((ended += 1), 2);

    const first = await unanswered(t, logout.answerLogout(message, end));
    t.like(first, { code: 'SAML_SIGNING_FAILED', sessions: 2, attempt: 'first', kept: true });
    t.true(codesWithin(first).includes('HSM_BUSY'));
    t.is(ended, 1);

    const retry = await logout.answerLogout(message, end);
    t.like(retry, { sessions: 2, attempt: 'retry' });
    t.is(ended, 1, 'the retry ends nothing');
    if (retry.reply?.binding !== 'redirect') return t.fail('the kept binding: HTTP-Redirect');
    const url = new URL(retry.reply.url);
    t.is(`${url.origin}${url.pathname}`, IDP_SLO);
    t.is(url.searchParams.get('RelayState'), 'rs-1');
    const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLResponse')!, 'base64')).toString('utf8');
    t.regex(xml, new RegExp(`InResponseTo="${fields.id}"`));
    t.regex(xml, /StatusCode Value="urn:oasis:names:tc:SAML:2\.0:status:Success"/);

    const again = await t.throwsAsync(logout.answerLogout(message, end), { instanceOf: AdapterError });
    t.is(again?.code, 'SAML_LOGOUT_REPLAYED');
    t.is(ended, 1);
  },
);

test.serial(
  'a retry passes every check again; another request under the kept ID is a replay; none uses the answer up',
  async (t) => {
    const idp = await createTestIdp({ slo: { post: IDP_SLO } });
    const logout = await logoutOf(idp);
    const fields = logoutRequestFields(idp, SLO, 'ada-4711', 'idx-1');
    const signed = signedBy(logoutRequestXml(fields), fields.id, idp);
    const message = postMessage('SAMLRequest', signed, 'rs-2');
    let ended = 0;
    const end = async () => ((ended += 1), 1);
    await unanswered(t, logout.answerLogout(message, end));

    const forged = postMessage('SAMLRequest', signed.replace('>idx-1<', '>idx-2<'), 'rs-2');
    const broken = await t.throwsAsync(logout.answerLogout(forged, end), { instanceOf: AdapterError });
    t.is(broken?.code, 'SAML_LOGOUT_SIGNATURE_INVALID');

    const other = { ...fields, sessionIndexes: ['idx-2'] };
    const sameId = postMessage('SAMLRequest', signedBy(logoutRequestXml(other), other.id, idp), 'rs-2');
    const notThat = await t.throwsAsync(logout.answerLogout(sameId, end), { instanceOf: AdapterError });
    t.is(notThat?.code, 'SAML_LOGOUT_REPLAYED', 'signed by the IdP, but not the request whose answer is kept');

    clock = () => new Date(Date.parse(fields.notOnOrAfter) + 900_000);
    try {
      const late = await t.throwsAsync(logout.answerLogout(message, end), { instanceOf: AnsweredLogoutRefusal });
      t.is(late?.code, 'SAML_LOGOUT_EXPIRED', 'past its window the retry is refused as any request');
    } finally {
      clock = () => new Date();
    }

    const retry = await logout.answerLogout(message, end);
    t.like(retry, { sessions: 1, attempt: 'retry' });
    t.is(retry.reply?.binding, 'post');
    t.is(ended, 1, 'only the first attempt ended anything');
  },
);

test.serial(
  "a retry the caller does not let take the kept answer is answered and leaves it for the caller's own retry",
  async (t) => {
    const idp = await createTestIdp({ slo: { post: IDP_SLO } });
    const logout = await logoutOf(idp);
    const fields = logoutRequestFields(idp, SLO, 'ada-4711', 'idx-9');
    const message = postMessage('SAMLRequest', signedBy(logoutRequestXml(fields), fields.id, idp), 'rs-9');
    const end = async () => 1;
    const first = await unanswered(t, logout.answerLogout(message, end));
    const asked: string[] = [];
    const copy = await logout.answerLogout(message, end, {
      takesKeptAnswer: async (retryKey) => (asked.push(retryKey), false),
    });
    t.like(copy, { sessions: 1, attempt: 'retry' }, 'the copy is answered');
    t.deepEqual(asked, [first.retryKey], "the caller is asked with the request's retry key");
    t.is(copy.retryKey, first.retryKey);
    // the first browser's own retry, whenever it lands: the kept answer is still there
    const own = await logout.answerLogout(message, end, { takesKeptAnswer: async () => true });
    t.like(own, { sessions: 1, attempt: 'retry' });
    const again = await t.throwsAsync(logout.answerLogout(message, end), { instanceOf: AdapterError });
    t.is(again?.code, 'SAML_LOGOUT_REPLAYED', 'taken by that retry: then a replay');
    // a caller that cannot say lets the retry take it, as one that does not ask
    const other = logoutRequestFields(idp, SLO, 'ada-4711', 'idx-10');
    const second = postMessage('SAMLRequest', signedBy(logoutRequestXml(other), other.id, idp), 'rs-10');
    await unanswered(t, logout.answerLogout(second, end));
    const failing = await logout.answerLogout(second, end, {
      takesKeptAnswer: () => Promise.reject(new Error('the store is down')),
    });
    t.like(failing, { attempt: 'retry' });
    await t.throwsAsync(logout.answerLogout(second, end), { instanceOf: AdapterError });
  },
);
