/**
 * Issue #14: an SSO login (a second authorization in the same browser: a login of its own on the existing
 * session) reads each Redis key at most once per HTTP request. Before, it read the login's context again
 * right after saving it (the SSO interaction saves it, the translation point reads it), the session's cookie
 * pointer twice in the request that replaces the session (found, then found again to end it), and the
 * person's account twice there (ending the old session forgot every record the request had read), and the
 * session's cookie pointer in the SSO interaction after reading the session by its uid (the record names its
 * cookie id and sids: a lookup by them needs no pointer read in the same request); the SSO login is now decided
 * in the authorization request on the session oidc-provider already read, with no interaction page. The login
 * still ends with a working token. And a session saved again with the same cookie id and sids (oidc-provider
 * saves it at the end of every request that read it) does not write its pointers again while they outlive it:
 * a `prompt=none` login wrote both for nothing, and an SSO login that replaces the session's cookie id wrote its
 * sid pointer again; nor does it write its login's context and outcome (saved, read
 * back and taken in the same request before). Real gateway in process, real Redis and PostgreSQL; reads counted on
 * ioredis's sendCommand, grouped by the HTTP request being served (requests are sequential here).
 */
import { Server } from 'node:http';
import test from 'ava';
import { Redis } from 'ioredis';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { logIn, redeem, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';

const READS = new Set(['get', 'hgetall', 'hmget']);
let requests: Array<{ route: string; reads: string[] }> | undefined;
let pointerWrites: string[] | undefined;
let loginKeys: string[] | undefined;

const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  const [command] = args;
  const key = String(command.args[0]);
  if (pointerWrites && command.name.toLowerCase() === 'set' && /:s2[js]:/.test(key)) pointerWrites.push(key);
  if (loginKeys && /:login:/.test(key)) loginKeys.push(`${command.name.toUpperCase()} ${key}`);
  if (requests && requests.length > 0 && READS.has(command.name.toLowerCase()))
    requests.at(-1)!.reads.push(`${command.name.toUpperCase()} ${String(command.args[0])}`);
  return sendCommand.apply(this, args);
};
const emit = Server.prototype.emit;
Server.prototype.emit = function markedEmit(this: Server, event: string | symbol, ...args: unknown[]) {
  if (event === 'request' && requests) {
    const req = args[0] as { method?: string; url?: string };
    requests.push({ route: `${req.method} ${(req.url ?? '').split('?')[0]}`, reads: [] });
  }
  return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
} as typeof emit;

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

test.serial('an SSO login reads each Redis key at most once per request, and still works', async (t) => {
  const { browser } = await logIn(bed);
  const request = await authorizationRequest(bed.rp);
  requests = [];
  pointerWrites = [];
  const landing = await browser.follow(request.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
  await landing.response.body?.cancel();
  const written = pointerWrites;
  pointerWrites = undefined;
  const code = landing.url.searchParams.get('code');
  t.truthy(code, `the SSO login ends at the RP with a code (${landing.url.href.slice(0, 120)})`);
  const tokens = await redeem(bed, code!, request.verifier);
  const seen = requests;
  requests = undefined;
  t.deepEqual(
    seen.map(({ route }) => route.replace(/^GET \/auth\/[^/]+$/, 'GET /auth/:uid')),
    ['GET /auth', 'GET /auth/:uid', 'POST /token'],
    'the authorization (its login decided there), the resumption (its completion), the token',
  );
  const twice = seen.flatMap(({ route, reads }) =>
    reads.filter((key, i) => reads.indexOf(key) !== i).map((key) => `${route}: ${key}`),
  );
  t.deepEqual(twice, [], 'no key read twice in one request');
  // the login replaces the session's cookie id: that pointer is written, once; its sid pointer outlives the
  // replacement and is not written again
  t.is(written.length, 1, written.join(' '));
  t.regex(written[0]!, /:s2j:/);
  t.is((await userinfo(bed.url, tokens.access_token)).status, 200);
});

test.serial('a prompt=none login on a session writes none of its pointers again, and still works', async (t) => {
  const { browser } = await logIn(bed);
  const request = await authorizationRequest(bed.rp, { prompt: 'none' });
  pointerWrites = [];
  loginKeys = [];
  const landing = await browser.follow(request.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
  await landing.response.body?.cancel();
  const written = pointerWrites;
  const contexts = loginKeys;
  pointerWrites = undefined;
  loginKeys = undefined;
  const code = landing.url.searchParams.get('code');
  t.truthy(code, `the silent login ends at the RP with a code (${landing.url.href.slice(0, 120)})`);
  t.deepEqual(written, [], 'the cookie pointer and the sid pointer are not written again');
  t.deepEqual(contexts, [], 'a login decided and acted on in its request keeps no context or outcome in Redis');
  const tokens = await redeem(bed, code!, request.verifier);
  t.is((await userinfo(bed.url, tokens.access_token)).status, 200);
  // the pointers still lead to the session: another silent login on it works
  const again = await authorizationRequest(bed.rp, { prompt: 'none' });
  const next = await browser.follow(again.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
  await next.response.body?.cancel();
  t.truthy(next.url.searchParams.get('code'));
});
