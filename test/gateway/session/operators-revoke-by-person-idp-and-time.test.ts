/**
 * The operator's revocations, through the typed API and the CLI: every session of one person (and no one
 * else's), every session begun before an instant (a key compromise time), every session from one IdP.
 * Each is refused at userinfo afterwards; the others still answer.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loginJourney } from '../../helpers/login-journey.ts';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { logIn, redeem, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';

// Many logins of one person in a row: the session bed's policy lets them through, so the tests see only revocation.

const CLI = fileURLToPath(new URL('../../../gateway/session/cli.ts', import.meta.url));
const run = promisify(execFile);

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

const options = { actor: 'operator:test', reason: 'test' };

async function marie(): Promise<string> {
  const request = await authorizationRequest(bed.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  return (await redeem(bed, journey.url.searchParams.get('code')!, request.verifier)).access_token;
}

async function accountOf(sid: string): Promise<string> {
  const found = await bed.gateway.services.sessions.store.findSession<{ accountId: string }>('sid', sid);
  return found!.payload.accountId;
}

const status = async (token: string) => (await userinfo(bed.url, token)).status;

test.serial('revokeAllOfAccount ends every session of that person and no one else’s', async (t) => {
  const first = await logIn(bed);
  const second = await logIn(bed);
  const other = await marie();
  const result = await bed.gateway.services.sessions.revoker.revokeAllOfAccount(await accountOf(first.sid), options);
  t.like(result, { sessions: 2, propagated: true });
  t.is(await status(first.accessToken), 401);
  t.is(await status(second.accessToken), 401);
  t.is(await status(other), 200);
});

test.serial('revokeIssuedBefore ends the sessions begun before the instant', async (t) => {
  const before = await logIn(bed);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const instant = new Date();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const after = await logIn(bed);
  const result = await bed.gateway.services.sessions.revoker.revokeIssuedBefore(instant, options);
  t.true(result.sessions >= 1);
  t.is(await status(before.accessToken), 401);
  t.is(await status(after.accessToken), 200);
});

test.serial('the CLI revokes every session from one IdP, and refuses an unknown scope', async (t) => {
  const person = await logIn(bed);
  const other = await marie();
  const env = { ...process.env, ...bed.deployment.env };
  const { stdout } = await run(
    process.execPath,
    [
      CLI,
      '--config',
      bed.deployment.configFile,
      '--reason',
      'idp compromised',
      '--actor',
      'alice',
      'revoke',
      'idp',
      'demo-idp',
    ],
    { env },
  );
  const result = JSON.parse(stdout) as { sessions: number; propagated: boolean };
  t.true(result.sessions >= 2);
  t.true(result.propagated);
  t.is(await status(person.accessToken), 401);
  t.is(await status(other), 401);
  const { rows } = await bed.gateway.services.pool.query(
    "select details->>'actor' as actor from audit_log where to_state = 'SESSION_REVOKED' and details->>'scope' = 'idp'",
  );
  t.regex(String(rows[0]?.actor), /^cli:\S+ for alice$/, 'who ran it, and for whom: --actor replaces no one');

  const refused = await run(
    process.execPath,
    [CLI, '--config', bed.deployment.configFile, '--reason', 'x', 'revoke', 'everyone', 'now'],
    { env },
  ).catch((error: { code: number; stderr: string }) => error);
  t.is((refused as { code: number }).code, 2);
  t.regex((refused as { stderr: string }).stderr, /unknown scope/);
  // as the admin API: an instant without its zone (read in the server's zone) or in the future is refused
  for (const [instant, message] of [
    ['2026-01-01T00:00', /with a zone/],
    ['2999-01-01T00:00Z', /must not be in the future/],
  ] as const) {
    const wrong = await run(
      process.execPath,
      [CLI, '--config', bed.deployment.configFile, '--reason', 'x', 'revoke', 'issued-before', instant],
      { env },
    ).catch((error: { code: number; stderr: string }) => error);
    t.is((wrong as { code: number }).code, 2, instant);
    t.regex((wrong as { stderr: string }).stderr, message, instant);
  }
  // as the admin API: a reason or an actor PostgreSQL or a log would take badly is refused before anything runs
  for (const [flags, message] of [
    [['--reason', 'a\nforged line'], /--reason: reason must not hold a control or invisible character/],
    [
      ['--reason', 'x', '--actor', 'al\u0007ice'],
      /--actor must be 1 to 500 characters, none a control or invisible character/,
    ],
  ] as const) {
    const wrong = await run(
      process.execPath,
      [CLI, '--config', bed.deployment.configFile, ...flags, 'revoke', 'idp', 'demo-idp'],
      { env },
    ).catch((error: { code: number; stderr: string }) => error);
    t.is((wrong as { code: number }).code, 2, flags.join(' '));
    t.regex((wrong as { stderr: string }).stderr, message, flags.join(' '));
  }
});
