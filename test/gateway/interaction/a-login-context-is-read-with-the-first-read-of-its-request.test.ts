/**
 * Issue #14 (Redis round trips): the pages of a login read its context (`login:<id>`) together with their
 * first other Redis command — oidc-provider's interaction at the interaction page, the chooser's answer and the
 * completion; the IdP's rate-limit call at the ACS — in one auto-pipelined batch, instead of in a round trip
 * of its own after it (`LoginContextStore.prefetch`). Still read once per request, and the login still ends
 * with a code. A whole first login and an SSO login through the real gateway; each batch ioredis sends is
 * recorded on `Pipeline.exec` (a command sent alone is a batch of one) and grouped by the HTTP request being
 * served (requests are sequential here).
 */
import { Server } from 'node:http';
import test from 'ava';
import { Redis } from 'ioredis';
import PipelineModule from 'ioredis/built/Pipeline.js';
import { authorizationRequest, RP_REDIRECT } from '../../helpers/gateway-fixture.ts';
import { logIn, startSessionBed, type SessionBed } from '../session/session-bed.ts';

type Queued = { name: string; args: unknown[] };
let requests: Array<{ route: string; batches: string[][] }> | undefined;
const keyOf = (c: Queued) => String(c.name.toLowerCase() === 'evalsha' ? c.args[2] : c.args[0]);
const record = (batch: Queued[]) => {
  if (requests && requests.length > 0)
    requests.at(-1)!.batches.push(batch.map((c) => `${c.name.toUpperCase()} ${keyOf(c)}`));
};
const Pipeline = PipelineModule.default;
const exec = Pipeline.prototype.exec;
Pipeline.prototype.exec = function recordedExec(this: InstanceType<typeof Pipeline>, ...args: Parameters<typeof exec>) {
  record((this as unknown as { _queue: Queued[] })._queue);
  return exec.apply(this, args);
};
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function recordedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  if (args[1] === undefined) record([args[0] as Queued]);
  return sendCommand.apply(this, args);
};
const emit = Server.prototype.emit;
Server.prototype.emit = function markedEmit(this: Server, event: string | symbol, ...args: unknown[]) {
  if (event === 'request' && requests) {
    const req = args[0] as { method?: string; url?: string };
    requests.push({ route: `${req.method} ${(req.url ?? '').split('?')[0]}`, batches: [] });
  }
  return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
} as typeof emit;

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed({ bootOptions: { fraud: { checkpointMs: 0 } } });
});
test.after.always(async () => {
  await bed?.stop();
});

const isContextRead = (c: string) => /^GET \S*:login:[^:]+$/.test(c);

/** Per request that read a login's context: how many reads, and what left in the same batch. */
function contextReads(seen: Array<{ route: string; batches: string[][] }>) {
  return seen
    .map(({ route, batches }) => ({
      route: route.replace(/\/interaction\/[^/]+/, '/interaction/:uid'),
      reads: batches.flat().filter(isContextRead).length,
      with: batches.find((b) => b.some(isContextRead))?.filter((c) => !isContextRead(c)) ?? [],
    }))
    .filter(({ reads }) => reads > 0);
}

test.serial('a first login and an SSO login read each context with another command, once per request', async (t) => {
  requests = [];
  const { browser } = await logIn(bed);
  const first = contextReads(requests);
  requests = [];
  const request = await authorizationRequest(bed.rp);
  const landing = await browser.follow(request.url, {}, (u) => u.href.startsWith(RP_REDIRECT));
  await landing.response.body?.cancel();
  const sso = contextReads(requests);
  requests = undefined;
  t.truthy(landing.url.searchParams.get('code'), 'the SSO login ends with a code');
  t.deepEqual(
    first.map(({ route }) => route),
    ['GET /interaction/:uid', 'POST /interaction/:uid/idp', 'POST /saml/acs', 'GET /interaction/:uid/complete'],
  );
  t.deepEqual(
    sso.map(({ route }) => route),
    ['GET /interaction/:uid', 'GET /interaction/:uid/complete'],
  );
  for (const read of [...first, ...sso]) {
    t.is(read.reads, 1, `${read.route}: read once`);
    t.true(read.with.length > 0, `${read.route}: sent with another command (${JSON.stringify(read.with)})`);
  }
  const inAcs = first.find(({ route }) => route === 'POST /saml/acs')!;
  t.true(
    inAcs.with.some((c) => c.includes(':rl:')),
    `at the ACS, with the IdP's rate limit (${inAcs.with})`,
  );
  for (const read of [...first, ...sso].filter(({ route }) => route !== 'POST /saml/acs'))
    t.true(
      read.with.some((c) => c.includes(':oidc:Interaction:')),
      `${read.route}: with the interaction's read (${read.with})`,
    );
});
