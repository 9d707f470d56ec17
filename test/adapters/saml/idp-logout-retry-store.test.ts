/**
 * The kept answer of an unanswered IdP LogoutRequest (`adapters/saml/logout-retry.ts`) against its store, with
 * this file's own SoftHSM2 token opened with one session and no waiting (holding it makes every signature
 * `HSM_BUSY`) and a state store whose `take` can be made to fail:
 *
 * - the store failing, or a kept value that is not what the adapter writes: `SAML_INTERNAL_ERROR`, never a
 *   plain Error (the gateway audits a coded refusal);
 * - the kept entry holds no value that goes into the signature: one rewritten to name another Destination,
 *   InResponseTo, binding or RelayState is refused, and an entry of the old format is no kept answer (a replay);
 * - copies with another RelayState racing the real retry never take its answer (refused as replays whose
 *   audited detail says they are altered copies); concurrent retries get one
 *   signed answer, the rest are replays, the sessions ended once.
 */
import { createHash } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { AdapterError, UnansweredLogout } from '../../../adapters/contract.ts';
import { createLegacySamlAdapter } from '../../../adapters/saml/legacy-adapter.ts';
import { RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { openKeyStore, type TokenKeyStore } from '../../../hsm/token-keystore.ts';
import { offeredLogout } from '../../helpers/offered-logout.ts';
import { logoutRequestFields, logoutRequestXml, postMessage, signedBy } from '../../helpers/saml/logout-messages.ts';
import { createTestIdp, type TestIdp } from '../../helpers/saml/test-idp.ts';
import { openSpKeys, SP, type SpKeys } from '../../helpers/saml/test-bed.ts';
import { freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';
import { IDP_SLO, SLO } from './single-logout-bed.ts';

const token = freshToken();
const prefix = redisPrefix();
const redis = createRedis({ url: redisUrl(), keyPrefix: prefix });
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
let oneSession: TokenKeyStore;

test.before(async () => {
  sp = await openSpKeys(token);
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
      now: () => new Date(),
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

/** A request of `idp` whose first attempt ended its sessions but could not be answered (the answer kept). */
async function unansweredRequest(t: ExecutionContext, relayState = 'rs-real') {
  const idp = await createTestIdp({ slo: { post: IDP_SLO } });
  const logout = await logoutOf(idp);
  const fields = logoutRequestFields(idp, SLO, 'ada-4711', 'idx-1');
  const signed = signedBy(logoutRequestXml(fields), fields.id, idp);
  const message = postMessage('SAMLRequest', signed, relayState);
  let ended = 0;
  const end = async () => ((ended += 1), 1);
  const first = await whileBusy(() =>
    t.throwsAsync(logout.answerLogout(message, end), { instanceOf: UnansweredLogout }),
  );
  t.like(first, { kept: true });
  return { idp, logout, fields, signed, message, end, ended: () => ended };
}

/** The store's keys (without the connection's prefix) of what is kept for the request `id`. */
async function keptKeys(id: string): Promise<string[]> {
  // KEYS takes no key prefix from the connection: the pattern names it
  const keys = await redis.keys(`${prefix}adapter:saml:logout:unanswered:*${id}*`);
  return keys.map((key) => key.slice(prefix.length));
}

/** The replay refusal's detail for a copy of an unanswered request with other values (what is audited). */
const NOT_THE_KEPT = /not the request whose unsigned answer is kept/;
const decoded = (xml: string) => Buffer.from(xml, 'base64').toString('utf8');

test.serial('the store failing as a retry takes the kept answer: SAML_INTERNAL_ERROR, not a plain Error', async (t) => {
  const { logout, message, end } = await unansweredRequest(t);
  takeFails = true;
  try {
    const error = await t.throwsAsync(logout.answerLogout(message, end), { instanceOf: AdapterError });
    t.is(error?.code, 'SAML_INTERNAL_ERROR');
  } finally {
    takeFails = false;
  }
});

test.serial('a kept value that is not what the adapter writes: SAML_INTERNAL_ERROR', async (t) => {
  const { logout, message, fields, end } = await unansweredRequest(t);
  const keys = await keptKeys(fields.id);
  t.true(keys.length > 0);
  for (const key of keys) await redis.set(key, '{"sessions": "all of them"', 'KEEPTTL');
  const error = await t.throwsAsync(logout.answerLogout(message, end), { instanceOf: AdapterError });
  t.is(error?.code, 'SAML_INTERNAL_ERROR');
});

test.serial('a kept entry rewritten to sign an answer elsewhere is refused; nothing is signed', async (t) => {
  const { logout, message, fields, end } = await unansweredRequest(t);
  const keys = await keptKeys(fields.id);
  t.true(keys.length > 0);
  for (const key of keys) {
    const kept = JSON.parse((await redis.get(key))!) as Record<string, unknown>;
    const elsewhere = { destination: 'https://evil.example/slo', binding: 'post', inResponseTo: '_other' };
    await redis.set(key, JSON.stringify({ ...kept, ...elsewhere, relayState: 'evil' }), 'KEEPTTL');
  }
  const error = await t.throwsAsync(logout.answerLogout(message, end), { instanceOf: AdapterError });
  t.is(error?.code, 'SAML_INTERNAL_ERROR', 'no signed answer to a Destination read from the store');
});

test.serial('an entry of the old format (the answer under the ID alone) is no kept answer: a replay', async (t) => {
  const { idp, logout, message, fields, end, ended } = await unansweredRequest(t);
  const [key] = await keptKeys(fields.id);
  if (key === undefined) return t.fail('an answer is kept');
  // the request's digest, wherever the current format keeps it (in its value or at the end of its key)
  const digest = (JSON.parse((await redis.get(key))!) as { request?: string }).request ?? key.split(':').at(-1);
  await redis.del(key);
  const old = {
    sessions: 1,
    status: { top: 'urn:oasis:names:tc:SAML:2.0:status:Success' },
    inResponseTo: fields.id,
    binding: 'post',
    destination: 'https://evil.example/slo',
    relayState: 'rs-real',
    request: digest,
  };
  await redis.set(`adapter:saml:logout:unanswered:${idp.entityId}:${fields.id}`, JSON.stringify(old), 'EX', 300);
  const error = await t.throwsAsync(logout.answerLogout(message, end), { instanceOf: AdapterError });
  t.is(error?.code, 'SAML_LOGOUT_REPLAYED');
  t.is(ended(), 1);
});

test.serial('copies with another RelayState racing the real retry never take its answer', async (t) => {
  for (let round = 0; round < 5; round += 1) {
    const { logout, signed, message, fields, end, ended } = await unansweredRequest(t);
    const copies = Array.from({ length: 6 }, () =>
      logout.answerLogout(postMessage('SAMLRequest', signed, 'evil'), end),
    );
    const real = logout.answerLogout(message, end);
    for (const copy of await Promise.allSettled(copies)) {
      t.is(copy.status, 'rejected');
      if (copy.status === 'rejected') {
        t.is((copy.reason as AdapterError).code, 'SAML_LOGOUT_REPLAYED');
        t.regex(
          (copy.reason as AdapterError).detail ?? '',
          NOT_THE_KEPT,
          'the audited detail says it is an altered copy',
        );
      }
    }
    const answer = await real;
    t.like(answer, { sessions: 1, attempt: 'retry' });
    if (answer.reply?.binding !== 'post') return t.fail('the answer by HTTP-POST');
    t.is(answer.reply.url, IDP_SLO);
    t.is(answer.reply.fields.RelayState, 'rs-real');
    t.regex(decoded(answer.reply.fields.SAMLResponse!), new RegExp(`InResponseTo="${fields.id}"`));
    t.is(ended(), 1);
  }
});

test.serial('concurrent retries: exactly one signed answer, the rest replays, the sessions ended once', async (t) => {
  const { logout, message, end, ended } = await unansweredRequest(t);
  const results = await Promise.allSettled([1, 2, 3, 4].map(() => logout.answerLogout(message, end)));
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results)
    if (r.status === 'rejected') {
      t.is((r.reason as AdapterError).code, 'SAML_LOGOUT_REPLAYED');
      t.notRegex((r.reason as AdapterError).detail ?? '', NOT_THE_KEPT, 'the same request: a plain replay');
    }
  t.is(ended(), 1);
});

test.serial(
  'what is kept of an unanswered request holds no unkeyed digest of it: a copy of Redis cannot test guessed NameIDs',
  async (t) => {
    const { fields } = await unansweredRequest(t, 'rs-dictionary');
    // the digest anyone could compute from a guessed NameID and the request's other values (the former formula)
    const unkeyed = createHash('sha256')
      .update(
        JSON.stringify([
          fields.id,
          fields.issuer,
          fields.issueInstant,
          fields.destination,
          fields.notOnOrAfter,
          { value: fields.nameId, format: fields.format },
          fields.sessionIndexes,
          'rs-dictionary',
        ]),
      )
      .digest('base64url');
    const keys = await keptKeys(fields.id);
    t.is(keys.length, 1, 'the kept answer of the request');
    const digestKey = (await redis.keys(`${prefix}adapter:saml:logout:unanswered-digest:*${fields.id}*`))[0]!;
    const keptDigest = await redis.get(digestKey.slice(prefix.length));
    t.truthy(keptDigest);
    t.false(keys[0]!.endsWith(unkeyed), 'the kept answer is under a keyed digest');
    t.not(keptDigest, unkeyed, 'the kept digest is keyed');
  },
);

test.serial('ending its sessions failed: the same request again ends the rest (not a replay), once', async (t) => {
  const idp = await createTestIdp({ slo: { post: IDP_SLO } });
  const logout = await logoutOf(idp);
  const fields = logoutRequestFields(idp, SLO, 'ada-4711', 'idx-1');
  const message = postMessage('SAMLRequest', signedBy(logoutRequestXml(fields), fields.id, idp), 'rs-unended');
  let calls = 0;
  const failing = async () => {
    calls += 1;
    throw new Error('Connection terminated unexpectedly');
  };
  await t.throwsAsync(logout.answerLogout(message, failing), { message: /Connection terminated/ });
  const end = async () => ((calls += 1), 1);
  const retried = await logout.answerLogout(message, end);
  t.is(retried.sessions, 1, 'the retry ended the rest');
  t.truthy(retried.reply, 'and is answered');
  t.is(calls, 2);
  const again = await t.throwsAsync(logout.answerLogout(message, end), { instanceOf: AdapterError });
  t.is(again?.code, 'SAML_LOGOUT_REPLAYED', 'ended: then a replay');
  t.is(calls, 2, 'nothing ended by the replay');
});
