/**
 * An IdP LogoutRequest whose sessions were ended but whose answer the HSM could not sign (503, Retry-After,
 * `UPSTREAM_LOGOUT_UNANSWERED`) gets that answer when the IdP sends it again (`adapters/saml/logout-retry.ts`):
 * the retry passes every check again, ends nothing — a session the person opened since survives, though the
 * request (no SessionIndex: every session of the NameID) would name it — and is audited
 * `UPSTREAM_LOGOUT_ANSWERED_ON_RETRY`; samlify (the demo IdP) verifies the answer. Once answered, the request is
 * a replay again (`SAML_LOGOUT_REPLAYED`). A retry that meets the HSM busy again gets 503 again and stays
 * retriable; a copy of the request with another RelayState is not that request (a replay) and does not use up
 * the kept answer.
 */
import { createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { Pkcs11Token } from '../../../hsm/pkcs11/token.ts';
import type { AuditRecord } from '../../../gateway/audit/audit-log.ts';
import { RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import { ensureDevPki } from '../../../certs/dev-pki.ts';
import { formsIn } from '../../helpers/browser.ts';
import { startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';
import { logoutRequestXml, samlId, signedBy } from '../../helpers/saml/logout-messages.ts';
import { logIn, userinfo } from './session-bed.ts';

const codeOf = (html: string) => /<code>([A-Z0-9_]+)<\/code>/.exec(html)?.[1];

/** A gateway whose HSM has one session and lets nobody wait: holding it makes every signature `HSM_BUSY`. */
async function busyableGateway(t: ExecutionContext) {
  const fx = await startGatewayFixture({
    rawConfig: (raw) => {
      raw.hsm = { ...(raw.hsm as object), poolSize: 1, maxWaiting: 0 };
    },
  });
  let release: (() => void) | undefined;
  t.teardown(async () => {
    release?.();
    await fx.stop();
  });
  const token = (fx.gateway.services.keys as unknown as { tokens: { token: Pkcs11Token } }).tokens.token;
  /** Runs `action` while the HSM's only session is held. */
  const whileBusy = async <T>(action: () => Promise<T>): Promise<T> => {
    const holding = token.run(() => new Promise<void>((resolve) => (release = resolve)));
    try {
      return await action();
    } finally {
      release!();
      await holding;
    }
  };
  return { fx, whileBusy };
}

/**
 * The demo IdP's LogoutRequest for every session of the person's NameID (no SessionIndex), signed with its key
 * (this deployment's PKI): what a retry would name again if it were processed again.
 */
function everySessionOf(fx: GatewayFixture, nameId: string, nameIdFormat: string) {
  const pki = ensureDevPki(join(fx.dir, 'pki'));
  const now = Date.now();
  const fields = {
    id: samlId(),
    issuer: fx.deployment.idp.entityId,
    destination: `${fx.url}/saml/slo`,
    issueInstant: new Date(now).toISOString(),
    notOnOrAfter: new Date(now + 120_000).toISOString(),
    nameId,
    format: nameIdFormat,
    sessionIndexes: [],
  };
  const xml = signedBy(logoutRequestXml(fields), fields.id, {
    privateKey: createPrivateKey(pki.idpKeyPem),
    certificatePem: pki.idpCertPem,
  });
  return { id: fields.id, form: { SAMLRequest: Buffer.from(xml).toString('base64'), RelayState: 'relay-from-idp' } };
}

const postSlo = (fx: GatewayFixture, form: Record<string, string>) =>
  fetch(`${fx.url}/saml/slo`, { method: 'POST', body: new URLSearchParams(form), redirect: 'manual' });

async function auditTrail(fx: GatewayFixture) {
  const { rows } = await fx.gateway.services.pool.query<{
    to_state: string;
    error_code: string | null;
    details: Record<string, unknown>;
  }>("select to_state, error_code, details from audit_log where to_state like 'UPSTREAM_LOGOUT_%' order by id");
  return rows.map((r) => ({
    to: r.to_state,
    code: r.error_code,
    sessions: r.details.sessions,
    ...(r.details.attempt === undefined ? {} : { attempt: r.details.attempt, kept: r.details.kept }),
    ...(r.details.endedNow === undefined ? {} : { endedNow: r.details.endedNow }),
  }));
}

/** The signed LogoutResponse in the answer page, delivered to the demo IdP (samlify verifies it). */
async function deliverToIdp(t: ExecutionContext, fx: GatewayFixture, answer: Response, requestId: string) {
  t.is(answer.status, 200, 'the answer page');
  const form = formsIn(await answer.text()).find((f) => f.method === 'POST');
  if (form === undefined) return t.fail('no answer form');
  t.is(form.action, `${fx.deployment.idp.url}/slo`);
  t.is(form.fields.RelayState, 'relay-from-idp');
  const delivered = await fetch(form.action, { method: 'POST', body: new URLSearchParams(form.fields) });
  await delivered.body?.cancel();
  t.is(delivered.status, 200, 'samlify verified our signed LogoutResponse');
  t.is(fx.deployment.idp.logoutResponses().at(-1)?.inResponseTo, requestId);
}

// serial, every test of this file: each starts a gateway on a fresh SoftHSM2 token, and a token made while another
// test of this process has the module open is not seen (HSM_TOKEN_NOT_FOUND: a clean-clone CI run, round 32)
test.serial(
  'the retry of an unanswered logout gets the answer and ends nothing; after that it is a replay',
  async (t) => {
    const { fx, whileBusy } = await busyableGateway(t);
    const first = await logIn(fx);
    const upstream = fx.deployment.idp.sessions().at(-1)!;
    const request = everySessionOf(fx, upstream.nameId, upstream.nameIdFormat);

    const unanswered = await whileBusy(async () => {
      const response = await postSlo(fx, request.form);
      await response.body?.cancel();
      return response;
    });
    t.is(unanswered.status, 503);
    t.is(unanswered.headers.get('retry-after'), '2');
    t.is((await userinfo(fx.url, first.accessToken)).status, 401, 'the session it names is ended');

    // the person logs in again: the same NameID, so the request (every session of it) would end this one too
    const since = await logIn(fx);
    t.is(fx.deployment.idp.sessions().at(-1)!.nameId, upstream.nameId);
    t.is((await userinfo(fx.url, since.accessToken)).status, 200);

    await deliverToIdp(t, fx, await postSlo(fx, request.form), request.id);
    t.is((await userinfo(fx.url, since.accessToken)).status, 200, 'the retry ended nothing: the new session lives');

    const again = await postSlo(fx, request.form);
    t.is(again.status, 400);
    t.is(codeOf(await again.text()), 'SAML_LOGOUT_REPLAYED', 'answered once: the same request is a replay');
    t.is((await userinfo(fx.url, since.accessToken)).status, 200);

    t.deepEqual(await auditTrail(fx), [
      { to: 'UPSTREAM_LOGOUT_UNANSWERED', code: 'HSM_BUSY', sessions: 1, attempt: 'first', kept: true },
      { to: 'UPSTREAM_LOGOUT_ANSWERED_ON_RETRY', code: null, sessions: 1, endedNow: 0 },
      { to: 'UPSTREAM_LOGOUT_REFUSED', code: 'SAML_LOGOUT_REPLAYED', sessions: undefined },
    ]);
  },
);

test.serial(
  'a retry that meets the HSM busy again is a 503 again and stays retriable; a copy with another RelayState is a replay',
  async (t) => {
    const { fx, whileBusy } = await busyableGateway(t);
    const session = await logIn(fx);
    const upstream = fx.deployment.idp.sessions().at(-1)!;
    const request = everySessionOf(fx, upstream.nameId, upstream.nameIdFormat);

    const [first, second] = await whileBusy(async () => {
      const answers = [await postSlo(fx, request.form), await postSlo(fx, request.form)];
      for (const answer of answers) await answer.body?.cancel();
      return answers;
    });
    t.is(first.status, 503);
    t.is(second.status, 503, 'the retry met the HSM busy too: 503 again, not a replay');
    t.is(second.headers.get('retry-after'), '2');
    t.is((await userinfo(fx.url, session.accessToken)).status, 401);

    const copy = await postSlo(fx, { ...request.form, RelayState: 'somewhere-else' });
    t.is(copy.status, 400);
    t.is(codeOf(await copy.text()), 'SAML_LOGOUT_REPLAYED', 'not the same request: refused, nothing signed');

    await deliverToIdp(t, fx, await postSlo(fx, request.form), request.id);

    t.deepEqual(await auditTrail(fx), [
      { to: 'UPSTREAM_LOGOUT_UNANSWERED', code: 'HSM_BUSY', sessions: 1, attempt: 'first', kept: true },
      { to: 'UPSTREAM_LOGOUT_UNANSWERED', code: 'HSM_BUSY', sessions: 1, attempt: 'retry', kept: true, endedNow: 0 },
      { to: 'UPSTREAM_LOGOUT_REFUSED', code: 'SAML_LOGOUT_REPLAYED', sessions: undefined },
      { to: 'UPSTREAM_LOGOUT_ANSWERED_ON_RETRY', code: null, sessions: 1, endedNow: 0 },
    ]);
  },
);

test.serial('the store failing as a retry takes its answer: a refusal audited with SAML_INTERNAL_ERROR', async (t) => {
  const { fx, whileBusy } = await busyableGateway(t);
  await logIn(fx);
  const upstream = fx.deployment.idp.sessions().at(-1)!;
  const request = everySessionOf(fx, upstream.nameId, upstream.nameIdFormat);
  await whileBusy(async () => (await postSlo(fx, request.form)).body?.cancel());

  const take = Object.getOwnPropertyDescriptor(RedisStateStore.prototype, 'take')!;
  RedisStateStore.prototype.take = async () => {
    throw new Error('Connection is closed.');
  };
  let failed: Response;
  try {
    failed = await postSlo(fx, request.form);
  } finally {
    Object.defineProperty(RedisStateStore.prototype, 'take', take);
  }
  t.is(failed.status, 500);
  await failed.body?.cancel();

  t.deepEqual(await auditTrail(fx), [
    { to: 'UPSTREAM_LOGOUT_UNANSWERED', code: 'HSM_BUSY', sessions: 1, attempt: 'first', kept: true },
    { to: 'UPSTREAM_LOGOUT_REFUSED', code: 'SAML_INTERNAL_ERROR', sessions: undefined },
  ]);
});

test.serial(
  'the audit failing after a retry signed its answer: the answer is kept again for the next retry',
  async (t) => {
    const { fx, whileBusy } = await busyableGateway(t);
    await logIn(fx);
    const upstream = fx.deployment.idp.sessions().at(-1)!;
    const request = everySessionOf(fx, upstream.nameId, upstream.nameIdFormat);
    await whileBusy(async () => (await postSlo(fx, request.form)).body?.cancel());

    const audit = fx.gateway.services.audit;
    const append = audit.append.bind(audit);
    let failOnce = true;
    audit.append = async (record: AuditRecord) => {
      if (failOnce && record.to === 'UPSTREAM_LOGOUT_ANSWERED_ON_RETRY') {
        failOnce = false;
        throw new Error('the audit log is unwritable');
      }
      return append(record);
    };
    const unaudited = await postSlo(fx, request.form);
    await unaudited.body?.cancel();
    t.false(failOnce, 'the audit failed');
    t.is(unaudited.status, 500, 'no answer without its audit record');

    await deliverToIdp(t, fx, await postSlo(fx, request.form), request.id);
    t.deepEqual(await auditTrail(fx), [
      { to: 'UPSTREAM_LOGOUT_UNANSWERED', code: 'HSM_BUSY', sessions: 1, attempt: 'first', kept: true },
      { to: 'UPSTREAM_LOGOUT_ANSWERED_ON_RETRY', code: null, sessions: 1, endedNow: 0 },
    ]);
  },
);
