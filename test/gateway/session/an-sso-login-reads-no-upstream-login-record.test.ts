/**
 * Issue #14: when oidc-provider resumes a login, the gateway links the upstream session the login-response
 * route kept under the login's id to the gateway session (IdP-initiated logout then ends exactly that
 * session). An SSO login stands on the session's earlier upstream authentication: no upstream answer, so no
 * such record, and its resumption read it anyway (a Redis miss, then a PostgreSQL read, per SSO login). It
 * now reads none, while a login that went upstream still reads and links it. Real gateway in process, real
 * Redis and PostgreSQL; the session-store reads counted on `SessionStore.prototype.record` by kind (and
 * `findSession` as a Session read).
 */
import test from 'ava';
import { SessionStore } from '../../../gateway/session/session-store.ts';
import type { RecordKind } from '../../../gateway/session/stored-record.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { logIn, redeem, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';

let reads: RecordKind[] | undefined;
const record = SessionStore.prototype.record;
SessionStore.prototype.record = function countedRecord(this: SessionStore, kind: RecordKind, recordKey: Buffer) {
  reads?.push(kind);
  return record.call(this, kind, recordKey);
};
// a session found by its cookie id is read through `findSession` (its own memoised read, not `record`)
const findSession = SessionStore.prototype.findSession;
SessionStore.prototype.findSession = function countedFindSession(this: SessionStore, by, id) {
  reads?.push('Session');
  return findSession.call(this, by, id);
} as typeof findSession;

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

test.serial(
  'a login that went upstream reads its upstream record; an SSO login on its session reads none',
  async (t) => {
    reads = [];
    const { browser } = await logIn(bed);
    const first = reads;
    t.true(
      first.filter((kind) => kind === 'UpstreamSession').length >= 2,
      `the upstream login keeps, then links, its upstream session (${first.join(' ')})`,
    );

    const request = await authorizationRequest(bed.rp);
    reads = [];
    const landing = await browser.follow(request.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
    await landing.response.body?.cancel();
    const sso = reads;
    reads = undefined;
    const code = landing.url.searchParams.get('code');
    t.truthy(code, `the SSO login ends at the RP with a code (${landing.url.href.slice(0, 120)})`);
    t.true(sso.includes('Session'), `the SSO login was counted (${sso.join(' ')})`);
    t.deepEqual(
      sso.filter((kind) => kind === 'UpstreamSession'),
      [],
      'no upstream record read for a login that never went upstream',
    );
    const tokens = await redeem(bed, code!, request.verifier);
    t.is((await userinfo(bed.url, tokens.access_token)).status, 200);
  },
);
