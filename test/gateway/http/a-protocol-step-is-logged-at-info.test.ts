/**
 * A refusal marked as a step of the protocol (http/protocol-step.ts `markProtocolStepError`: a DPoP nonce asked for,
 * as the risk assessment does when an RP's cached nonce, one the gateway handed out, has gone stale) is logged at
 * info, "request answered with a protocol step", not as a failed request: an RP doing what RFC 9449 §8 asks of it
 * fills no operator's warnings. The same error unmarked is still a warning (also when only the answer is marked, for
 * the rate limiter), and a server error is an error whatever the mark.
 */
import test from 'ava';
import Koa from 'koa';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { GatewayError } from '../../../gateway/errors.ts';
import { errorHandler } from '../../../gateway/http/error-handler.ts';
import { markProtocolStep, markProtocolStepError } from '../../../gateway/http/protocol-step.ts';

test('a marked protocol step is info; the same refusal unmarked is a warning; a 500 stays an error', async (t) => {
  const lines: { level: number; msg: string; code?: string; step?: string }[] = [];
  const app = new Koa();
  app.use(
    errorHandler(pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as never) })),
  );
  app.use((ctx) => {
    const error =
      ctx.path === '/broken'
        ? new Error('internals')
        : new GatewayError('RISK_ASSESSMENT_PROOF_INVALID', 401, 'the DPoP proof is not valid');
    if (ctx.query.step === '1') markProtocolStepError(error, 'use_dpop_nonce');
    // the answer marked for the rate limiter says nothing of which error is the step: the error's own mark does
    if (ctx.query.answer === '1') markProtocolStep(ctx.res, 'use_dpop_nonce');
    throw error;
  });
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's handler settles each request itself
  const server: Server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const statuses = [];
  for (const path of ['/assess?step=1', '/assess', '/assess?answer=1', '/broken?step=1'])
    statuses.push((await fetch(`${base}${path}`, { headers: { accept: 'application/json' } })).status);
  t.deepEqual(statuses, [401, 401, 401, 500], 'the answers themselves are unchanged');
  t.deepEqual(
    lines.map((l) => [l.level, l.msg, l.step]),
    [
      [30, 'request answered with a protocol step', 'use_dpop_nonce'],
      [40, 'request failed', undefined],
      [40, 'request failed', undefined],
      [50, 'request failed', undefined],
    ],
  );
});
