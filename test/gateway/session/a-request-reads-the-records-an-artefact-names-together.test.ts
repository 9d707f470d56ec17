/**
 * Issue #14 (Redis round trips): the records a request reads one after the other because an artefact names
 * them are read together, in one auto-pipelined batch (`SessionStore.prefetch`): at the token endpoint the
 * authorization code's session, grant and account (3 round trips before, 1 now); when the authorization
 * resumes with the interaction's result, its account and grant (2 before, 1 now). Each record still read once
 * per request, and the tokens work. A whole first login through the real gateway; each batch ioredis sends is
 * recorded on `Pipeline.exec` (a command sent alone is a batch of one), grouped by the HTTP request being
 * served (requests are sequential here).
 */
import { Server } from 'node:http';
import test from 'ava';
import { Redis } from 'ioredis';
import PipelineModule from 'ioredis/built/Pipeline.js';
import { logIn, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';

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
  await logIn(bed); // warm-up: the person's account exists, scripts loaded
});
test.after.always(async () => {
  await bed?.stop();
});

const isRecordRead = (c: string) => /^HGETALL \S*:s2:/.test(c);

test.serial('the token request and the resumed authorization read the named records in one batch', async (t) => {
  requests = [];
  const session = await logIn(bed);
  const seen = requests;
  requests = undefined;
  const reads = (route: RegExp) => {
    const request = seen.find((r) => route.test(r.route));
    if (!request) throw new Error(`no request ${route}`);
    const batches = request.batches.filter((b) => b.some(isRecordRead)).map((b) => b.filter(isRecordRead));
    return { batches, all: batches.flat() };
  };
  const token = reads(/^POST \/token$/);
  t.is(token.all.length, 3, `the session, the grant and the account (${JSON.stringify(token.batches)})`);
  t.is(new Set(token.all).size, 3, 'each read once');
  t.is(token.batches.length, 1, `in one round trip (${JSON.stringify(token.batches)})`);
  const resume = reads(/^GET \/auth\/[^/]+$/);
  // the account and the grant the result names, then the login's upstream record (read-modify-write)
  t.true(resume.batches.length >= 1);
  t.is(resume.batches[0]!.length, 2, `the account and the grant together (${JSON.stringify(resume.batches)})`);
  t.is(new Set(resume.all).size, resume.all.length, 'each read once');
  t.is((await userinfo(bed.url, session.accessToken)).status, 200);
});
