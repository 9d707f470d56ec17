/**
 * The admin revocation API on the operations listener (issue #12 item 4): `POST /admin/revocations` with
 * `{ scope, value, reason }`, for operators with the `revoker` role.
 *
 * - one session (by `sid`), every session of a person, every session from one IdP, every session begun
 *   before a key-compromise instant: each answers how many sessions it revoked, and the tokens of those
 *   sessions are refused at userinfo afterwards (others still answer);
 * - the operator in the `SESSION_REVOKED` audit record is the holder of the credential;
 * - refusals with their codes: no credential (401 `OPS_UNAUTHORIZED`), no `revoker` role (403
 *   `OPS_FORBIDDEN`), unknown scope, bad value, instant in the future, missing reason, unknown key, not
 *   JSON; each audited (`REVOCATION_REFUSED` with its code) but the one without a credential (anyone reaching
 *   the listener could otherwise grow the append-only audit chain at will); none of them revokes anything; the
 *   public listener does not serve the path;
 * - a reason that is not well-formed text (a lone surrogate) still revokes and is audited (as U+FFFD), and a `sid`
 *   that names no session is audited too.
 */
import test from 'ava';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { logIn, redeem, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

async function revoke(
  body: unknown,
  as: 'alice' | 'bob' | null = 'alice',
  type = 'application/json',
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${bed.opsUrl}/admin/revocations`, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      'content-type': type,
      ...(as ? { authorization: `Bearer ${bed.deployment.operatorTokens[as]}` } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function marie(): Promise<string> {
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  return (await redeem(bed, journey.url.searchParams.get('code')!, request.verifier)).access_token;
}

const status = async (token: string) => (await userinfo(bed.url, token)).status;

async function revokedBy(id: string): Promise<{ actor: string; reason: string } | undefined> {
  const { rows } = await bed.gateway.services.pool.query<{ actor: string; reason: string }>(
    "select details->>'actor' as actor, details->>'reason' as reason from audit_log where to_state = 'SESSION_REVOKED' and session_id = $1",
    [`revocation:${id}`],
  );
  return rows[0];
}

test.serial('one session, by sid: revoked, counted, audited with the operator’s name', async (t) => {
  const person = await logIn(bed);
  const other = await logIn(bed);
  const answer = await revoke({ scope: 'sid', value: person.sid, reason: 'stolen laptop' });
  t.is(answer.status, 200);
  t.like(answer.json, { scope: 'sid', sessions: 1, propagated: true });
  t.is(await status(person.accessToken), 401);
  t.is(await status(other.accessToken), 200, 'the same person’s other session goes on');
  t.deepEqual(await revokedBy(String(answer.json.id)), { actor: 'operator:alice', reason: 'stolen laptop' });
  const again = await revoke({ scope: 'sid', value: person.sid, reason: 'again' });
  t.like(again.json, { sessions: 0 }, 'a revoked session is not revoked twice');
});

test.serial('every session of a person, and no one else’s', async (t) => {
  const first = await logIn(bed);
  const second = await logIn(bed);
  const other = await marie();
  const found = await bed.gateway.services.sessions.store.findSession<{ accountId: string }>('sid', first.sid);
  const answer = await revoke({ scope: 'account', value: found!.payload.accountId, reason: 'account takeover' });
  t.like(answer.json, { scope: 'account' });
  t.true((answer.json.sessions as number) >= 2, 'both (and any earlier session of that person still live)');
  t.is(await status(first.accessToken), 401);
  t.is(await status(second.accessToken), 401);
  t.is(await status(other), 200);
});

test.serial('every session begun before a key-compromise instant', async (t) => {
  const before = await logIn(bed);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const instant = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const after = await logIn(bed);
  const answer = await revoke({ scope: 'issued_before', value: instant, reason: 'signing key compromised' });
  t.is(answer.status, 200);
  t.true((answer.json.sessions as number) >= 1);
  t.is(await status(before.accessToken), 401);
  t.is(await status(after.accessToken), 200);
});

test.serial('every session from one IdP', async (t) => {
  const person = await logIn(bed);
  const other = await marie();
  const answer = await revoke({ scope: 'idp', value: 'demo-idp', reason: 'IdP compromised' });
  t.true((answer.json.sessions as number) >= 2);
  t.is(await status(person.accessToken), 401);
  t.is(await status(other), 401);
});

test.serial('refusals have their codes and revoke nothing', async (t) => {
  const person = await logIn(bed);
  const cases: Array<[unknown, 'alice' | 'bob' | null, number, string, string?]> = [
    [{ scope: 'sid', value: person.sid, reason: 'x' }, null, 401, 'OPS_UNAUTHORIZED'],
    [{ scope: 'sid', value: person.sid, reason: 'x' }, 'bob', 403, 'OPS_FORBIDDEN'],
    [{ scope: 'everything', value: person.sid, reason: 'x' }, 'alice', 400, 'REVOCATION_SCOPE_UNKNOWN'],
    [{ value: person.sid, reason: 'x' }, 'alice', 400, 'REVOCATION_SCOPE_UNKNOWN'],
    [{ scope: 'sid', value: '', reason: 'x' }, 'alice', 400, 'REVOCATION_VALUE_INVALID'],
    [{ scope: 'sid', value: 'a b', reason: 'x' }, 'alice', 400, 'REVOCATION_VALUE_INVALID'],
    [{ scope: 'issued_before', value: 'yesterday', reason: 'x' }, 'alice', 400, 'REVOCATION_VALUE_INVALID'],
    [{ scope: 'issued_before', value: '2020-01-01', reason: 'x' }, 'alice', 400, 'REVOCATION_VALUE_INVALID'],
    [{ scope: 'issued_before', value: '2026-02-31T08:00Z', reason: 'x' }, 'alice', 400, 'REVOCATION_VALUE_INVALID'],
    [
      { scope: 'issued_before', value: new Date(Date.now() + 3600_000).toISOString(), reason: 'x' },
      'alice',
      400,
      'REVOCATION_VALUE_INVALID',
    ],
    [{ scope: 'sid', value: person.sid }, 'alice', 400, 'REVOCATION_REASON_REQUIRED'],
    [{ scope: 'sid', value: person.sid, reason: '   ' }, 'alice', 400, 'REVOCATION_REASON_REQUIRED'],
    // PostgreSQL refuses a NUL in text: such a reason made a revocation that could never be written
    [{ scope: 'sid', value: person.sid, reason: 'x\u0000' }, 'alice', 400, 'REVOCATION_REASON_REQUIRED'],
    [
      { scope: 'issued_before', value: new Date().toISOString(), reason: 'x\u0000' },
      'alice',
      400,
      'REVOCATION_REASON_REQUIRED',
    ],
    [{ scope: 'sid', value: person.sid, reason: 'forged\nline' }, 'alice', 400, 'REVOCATION_REASON_REQUIRED'],
    [{ scope: 'sid', value: person.sid, reason: 'x'.repeat(501) }, 'alice', 400, 'REVOCATION_REASON_REQUIRED'],
    // a right-to-left override and a C1 control: text that reads otherwise than it is
    [{ scope: 'sid', value: person.sid, reason: 'ok \u202e cod' }, 'alice', 400, 'REVOCATION_REASON_REQUIRED'],
    [{ scope: 'sid', value: person.sid, reason: 'csi \u009b 2J' }, 'alice', 400, 'REVOCATION_REASON_REQUIRED'],
    [{ scope: 'sid', value: person.sid, reason: 'x', actor: 'bob' }, 'alice', 400, 'REQUEST_INVALID'],
    ['[1]', 'alice', 400, 'REQUEST_INVALID'],
    ['{', 'alice', 400, 'REQUEST_INVALID'],
    [`scope=sid&value=${person.sid}&reason=x`, 'alice', 415, 'REQUEST_INVALID', 'application/x-www-form-urlencoded'],
  ];
  for (const [body, as, code, error, type] of cases) {
    const answer = await revoke(body, as, type);
    t.is(answer.status, code, `${JSON.stringify(body)} as ${as}`);
    t.is(answer.json.error, error, `${JSON.stringify(body)} as ${as}`);
  }
  t.is(await status(person.accessToken), 200, 'nothing was revoked');
  const { rows } = await bed.gateway.services.pool.query<{ error_code: string; operator: string | null }>(
    "select error_code, details->>'operator' as operator from audit_log where to_state = 'REVOCATION_REFUSED' order by id",
  );
  t.deepEqual(
    rows.map((r) => [r.error_code, r.operator]),
    cases.filter((c) => c[1] !== null).map((c) => [c[3], c[1]]),
    'each refusal of a known operator audited with its code and who called (bob, without the role, too); a request without a credential is not',
  );
  const get = await fetch(`${bed.opsUrl}/admin/revocations`, {
    headers: { authorization: `Bearer ${bed.deployment.operatorTokens.alice}` },
  });
  t.is(get.status, 405);
  const pub = await fetch(`${bed.url}/admin/revocations`, { method: 'POST' });
  t.is(pub.status, 404, 'not on the public listener');
});

test.serial('a reason with a lone surrogate revokes and is audited; a sid naming no session is audited', async (t) => {
  const person = await logIn(bed);
  const answer = await revoke({ scope: 'sid', value: person.sid, reason: 'stolen \ud800 laptop' });
  t.is(answer.status, 200, JSON.stringify(answer.json));
  t.is(await status(person.accessToken), 401);
  t.deepEqual(await revokedBy(String(answer.json.id)), { actor: 'operator:alice', reason: 'stolen \ufffd laptop' });

  const none = await revoke({ scope: 'sid', value: 'no-such-sid-1234', reason: 'a typo' });
  t.like(none.json, { sessions: 0 });
  const { rows } = await bed.gateway.services.pool.query<{ target: string; actor: string }>(
    "select details->>'target' as target, details->>'actor' as actor from audit_log where to_state = 'SESSION_REVOKED' and session_id = 'revocation:unmatched'",
  );
  t.deepEqual(rows, [{ target: 'no-such-sid-1234', actor: 'operator:alice' }]);
});

test.serial("a revocation whose audit record cannot be written still tells the sessions' RPs", async (t) => {
  const person = await logIn(bed);
  const told: string[] = [];
  bed.gateway.services.sessions.revoker.onRevoked(async (records) => {
    told.push(...records.map((r) => r.recordKey.toString('hex')));
  });
  const pool = bed.gateway.services.pool;
  await pool.query(`create function refuse_revocation_record() returns trigger language plpgsql as $$
    begin if new.to_state = 'SESSION_REVOKED' then raise exception 'refused' using errcode = 'check_violation'; end if; return new; end $$`);
  await pool.query(
    'create trigger refuse_revocation_record before insert on audit_log for each row execute function refuse_revocation_record()',
  );
  let answer;
  try {
    answer = await revoke({ scope: 'sid', value: person.sid, reason: 'stolen laptop' });
  } finally {
    await pool.query('drop trigger refuse_revocation_record on audit_log');
    await pool.query('drop function refuse_revocation_record()');
  }
  t.true(answer.status >= 500, 'the operator is told the revocation was not recorded');
  t.is(await status(person.accessToken), 401, 'the session is revoked');
  t.is(told.length, 1, 'and its RPs are told: a retry would match it no more');
});
