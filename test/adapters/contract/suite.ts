/**
 * The adapter contract suite: what every upstream adapter must do, whatever its protocol. Each adapter's test
 * file opens a `ContractSubject` (the adapter, wired to the harness's real Redis, and an IdP of the test that
 * can answer a login well or with one defect) and calls `contractSuite`. A new adapter kind is done when its
 * file passes.
 *
 * - startLogin gives a fresh, opaque correlation value per login, carried by the redirect or the form, and
 *   refuses a level above the IdP's maximum with a code;
 * - a good answer yields the login it answers and a typed identity (the adapter's id, a LoA never above its
 *   maximum, an ISO authnInstant, at least one verified signature in the evidence);
 * - each defect is refused with the adapter's stable code for it, a code of the closed registry: bad signature,
 *   wrong audience (or recipient), expired, unknown LoA; the same answer twice is a replay; an answer brought
 *   by another browser is refused and not attributed to the login; an empty message is refused, never a pass;
 * - logout: every adapter declares its capability (`offered`, and the code audited when it is skipped); one that
 *   offers it signs a logout request carrying the relay value, takes the IdP's answer once, ends exactly what a
 *   genuine IdP request names (one typed `UpstreamLogoutRequest`) and answers it, and refuses a request whose
 *   signature is broken — nothing ended, never answered — or one naming no session, with stable codes.
 */
import type { TestFn } from 'ava';
import {
  AdapterError,
  AnsweredLogoutRefusal,
  type FrontChannel,
  type InboundLogoutMessage,
  type InboundMessage,
  type LoaUri,
  type LoginStart,
  type UpstreamAdapter,
  type UpstreamLogout,
  type UpstreamLogoutRequest,
  type UpstreamSessionRef,
} from '../../../adapters/contract.ts';
import { loaRank } from '../../../adapters/contract/vocabulary.ts';
import { ADAPTER_ERRORS, type AdapterErrorCode } from '../../../adapters/errors/registry.ts';

export const DEFECTS = ['bad-signature', 'wrong-audience', 'expired', 'unknown-loa'] as const;
export type Defect = (typeof DEFECTS)[number];

export interface StartedLogin {
  loginId: string;
  start: LoginStart;
  /** The IdP's answer to this login, as our route receives it (form fields), well formed or with `defect`. */
  answer(defect?: Defect): Promise<Record<string, string>>;
}

export interface ContractSubject {
  adapter: UpstreamAdapter;
  /** A level above the IdP's maximum (a subject registers its IdP below high). */
  unreachable: LoaUri;
  /** Starts a login for `browser` through `adapter.startLogin`. */
  start(browser: string): Promise<StartedLogin>;
  /** The code of each refusal, as the adapter's own list names it. */
  codes: Record<Defect | 'replay' | 'wrong-browser', AdapterErrorCode>;
  /** What the subject's IdP can do for single logout (it must match what the adapter declares). */
  logout: LogoutSubject;
  close(): Promise<void>;
}

export type LogoutSubject =
  | { offered: false }
  | {
      offered: true;
      /** An upstream session the IdP opened (as the gateway recorded it at login). */
      session: UpstreamSessionRef;
      /** The IdP's (successful) answer to the logout request `start` takes to it, as our route receives it. */
      answer(start: FrontChannel): Promise<InboundLogoutMessage>;
      /** A logout request of the IdP naming `session`, genuine or with its signature broken. */
      request(defect?: 'bad-signature'): Promise<InboundLogoutMessage>;
      codes: Record<'bad-signature' | 'replay' | 'unknown-session', AdapterErrorCode>;
    };

const BROWSER = 'contract-browser-A';
const OTHER_BROWSER = 'contract-browser-B';

function post(params: Record<string, string>, browserBinding = BROWSER): InboundMessage {
  return { method: 'POST', params, browserBinding };
}

function carries(start: LoginStart, value: string): boolean {
  if (start.binding === 'post') return Object.values(start.fields).includes(value);
  return [...new URL(start.url).searchParams.values()].includes(value);
}

/**
 * @example
 * contractSuite(test, 'reference', openReferenceSubject);
 */
export function contractSuite(
  test: TestFn,
  name: string,
  open: () => Promise<ContractSubject>,
  declared: { logout: 'offered' | 'not offered' },
): void {
  let subject: ContractSubject;
  test.before(async () => {
    subject = await open();
  });
  test.after.always(async () => {
    await subject?.close();
  });

  test(`${name}: each login gets a fresh correlation value, carried to the IdP`, async (t) => {
    const [a, b] = [await subject.start(BROWSER), await subject.start(BROWSER)];
    t.true(a.start.correlation.length >= 16, 'opaque and unguessable');
    t.not(a.start.correlation, b.start.correlation);
    t.true(carries(a.start, a.start.correlation));
  });

  test(`${name}: a good answer yields its login and a typed identity`, async (t) => {
    const login = await subject.start(BROWSER);
    const result = await subject.adapter.finishLogin(post(await login.answer()));
    t.is(result.loginId, login.loginId);
    const { identity } = result;
    t.is(identity.idp, subject.adapter.id);
    t.true(identity.subject.length > 0);
    t.true(loaRank(identity.loa) >= 0 && loaRank(identity.loa) <= loaRank(subject.adapter.maxLoa));
    t.false(Number.isNaN(Date.parse(identity.authnInstant)));
    t.true(identity.evidence.signaturesVerified >= 1);
    t.true(identity.evidence.issuer.length > 0);
    t.is(identity.evidence.inResponseTo, login.start.request, 'the answer names the request it answers');
  });

  test(`${name}: each request has its own id, which only its answer names`, async (t) => {
    const [a, b] = [await subject.start(BROWSER), await subject.start(BROWSER)];
    t.true(a.start.request.length > 0);
    t.not(a.start.request, b.start.request);
  });

  for (const defect of DEFECTS) {
    test(`${name}: ${defect} is refused with its stable code`, async (t) => {
      const login = await subject.start(BROWSER);
      const params = await login.answer(defect);
      const error = await t.throwsAsync(subject.adapter.finishLogin(post(params)), { instanceOf: AdapterError });
      t.is(error?.code, subject.codes[defect]);
      t.is(ADAPTER_ERRORS[error!.code].kind, 'refused');
    });
  }

  test(`${name}: the same answer twice is a replay`, async (t) => {
    const login = await subject.start(BROWSER);
    const params = await login.answer();
    await subject.adapter.finishLogin(post(params));
    const error = await t.throwsAsync(subject.adapter.finishLogin(post(params)), { instanceOf: AdapterError });
    t.is(error?.code, subject.codes.replay);
    t.is(error?.loginId, undefined, 'a replay is never attributed to the login it first answered');
  });

  test(`${name}: an answer brought by another browser is refused and not attributed`, async (t) => {
    const login = await subject.start(BROWSER);
    const params = await login.answer();
    const error = await t.throwsAsync(subject.adapter.finishLogin(post(params, OTHER_BROWSER)), {
      instanceOf: AdapterError,
    });
    t.is(error?.code, subject.codes['wrong-browser']);
    t.is(error?.loginId, undefined);
  });

  test(`${name}: an answer brought by the same browser, its binding now made under a rotated key, finishes its login`, async (t) => {
    // the gateway hands the browser's binding under its current key, and the same cookie's under the keys used
    // before a rotation (`earlierBrowserBindings`): the request was bound with one of those
    const login = await subject.start(BROWSER);
    const params = await login.answer();
    const result = await subject.adapter.finishLogin({
      method: 'POST',
      params,
      browserBinding: 'contract-browser-A-under-the-new-key',
      earlierBrowserBindings: ['contract-browser-A-under-another-old-key', BROWSER],
    });
    t.is(result.loginId, login.loginId);
  });

  test(`${name}: earlier bindings of another browser do not make its answer this browser's`, async (t) => {
    const login = await subject.start(BROWSER);
    const params = await login.answer();
    const error = await t.throwsAsync(
      subject.adapter.finishLogin({ ...post(params, OTHER_BROWSER), earlierBrowserBindings: ['contract-browser-C'] }),
      { instanceOf: AdapterError },
    );
    t.is(error?.code, subject.codes['wrong-browser']);
  });

  test(`${name}: an empty message is refused with a code, never a pass`, async (t) => {
    const error = await t.throwsAsync(subject.adapter.finishLogin(post({})), { instanceOf: AdapterError });
    t.true(Object.hasOwn(ADAPTER_ERRORS, error!.code));
  });

  test(`${name}: a level above the IdP's maximum is refused at start`, async (t) => {
    const above = subject.unreachable;
    t.true(loaRank(above) > loaRank(subject.adapter.maxLoa));
    const error = await t.throwsAsync(
      subject.adapter.startLogin({ loginId: 'above', browserBinding: BROWSER, minimumLoa: above, forceAuthn: false }),
      { instanceOf: AdapterError },
    );
    t.is(error?.loginId, 'above');
    t.is(ADAPTER_ERRORS[error!.code].kind, 'refused');
  });

  test(`${name}: every refusal code is distinct`, (t) => {
    const codes = Object.values(subject.codes);
    t.is(new Set(codes).size, codes.length);
  });

  logoutSuite(test, name, () => subject, declared.logout === 'offered');
}

/** The logout part of the contract (`UpstreamLogoutCapability`). */
function logoutSuite(test: TestFn, name: string, current: () => ContractSubject, offered: boolean): void {
  test(`${name}: declares its logout capability explicitly, with the code audited when it is skipped`, (t) => {
    const { adapter, logout } = current();
    t.is(adapter.logout.offered, offered, 'the capability is the declared one');
    t.is(logout.offered, offered, 'the subject was set up for it');
    t.is(ADAPTER_ERRORS[adapter.logout.notOfferedCode].kind, 'unavailable');
    if (!adapter.logout.offered) {
      t.true(adapter.logout.reason.length > 0);
      t.false('answerLogout' in adapter.logout, 'no logout operation behind a capability declared absent');
    }
  });
  if (!offered) return;

  const parts = () => {
    const { adapter, logout } = current();
    if (!adapter.logout.offered || !logout.offered) throw new Error('logout declared but not offered');
    return { adapter, ours: adapter.logout as UpstreamLogout, idp: logout };
  };
  const ending = () => {
    const asked: UpstreamLogoutRequest[] = [];
    return { asked, end: async (request: UpstreamLogoutRequest) => (asked.push(request), 1) };
  };

  test(`${name}: SP-initiated logout carries the relay value to the IdP, and its answer finishes it once`, async (t) => {
    const { ours, idp } = parts();
    const relayState = `relay-${Math.random().toString(36).slice(2)}`;
    const start = await ours.startLogout({ logoutId: 'contract-logout', relayState, session: idp.session });
    if (start === null) return t.fail('the IdP offers single logout: a message must be sent');
    t.true(
      start.binding === 'post'
        ? Object.values(start.fields).includes(relayState)
        : new URL(start.url).searchParams.get('RelayState') === relayState,
    );
    const answer = await idp.answer(start);
    t.true(ours.names(answer), 'the answer names this adapter');
    t.deepEqual(await ours.finishLogout(answer), { logoutId: 'contract-logout' });
    const again = await t.throwsAsync(ours.finishLogout(answer), { instanceOf: AdapterError });
    t.is(again?.code, idp.codes.replay);
  });

  test(`${name}: a genuine IdP logout request ends exactly what it names, and is answered`, async (t) => {
    const { adapter, ours, idp } = parts();
    const message = await idp.request();
    t.true(ours.names(message));
    const { asked, end } = ending();
    const { reply, sessions, attempt } = await ours.answerLogout(message, end);
    t.deepEqual([sessions, attempt], [1, 'first'], 'the sessions `end` ended, by this message');
    t.deepEqual(asked, [
      {
        idp: adapter.id,
        subject: idp.session.subject,
        nameIdFormat: idp.session.nameIdFormat,
        sessionIndexes: idp.session.sessionIndex === undefined ? [] : [idp.session.sessionIndex],
      },
    ]);
    t.not(reply, null, 'the IdP lists where the answer goes');
  });

  test(`${name}: an IdP logout request with a broken signature is refused, unanswered, nothing ended`, async (t) => {
    const { ours, idp } = parts();
    const { asked, end } = ending();
    const error = await t.throwsAsync(ours.answerLogout(await idp.request('bad-signature'), end), {
      instanceOf: AdapterError,
    });
    t.is(error?.code, idp.codes['bad-signature']);
    t.false(error instanceof AnsweredLogoutRefusal, 'an unverified sender is never answered');
    t.deepEqual(asked, []);
  });

  test(`${name}: an IdP logout request naming no session is refused with its code`, async (t) => {
    const { ours, idp } = parts();
    const error = await t.throwsAsync(
      ours.answerLogout(await idp.request(), async () => 0),
      { instanceOf: AdapterError },
    );
    t.is(error?.code, idp.codes['unknown-session']);
    t.is(ADAPTER_ERRORS[error!.code].kind, 'refused');
  });

  test(`${name}: a logout message of nobody is not named by this adapter`, (t) => {
    t.false(parts().ours.names({ method: 'POST', params: {} }));
  });
}

export { BROWSER as CONTRACT_BROWSER };
