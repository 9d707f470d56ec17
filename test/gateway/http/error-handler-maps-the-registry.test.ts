/**
 * The error handler answers from the error registry (issue #11 item 5): an `AdapterError` that reaches it is
 * mapped like a `GatewayError` (its status and code, not a 500), and the page is in French or English with
 * the registry's message. Anything unregistered stays a generic 500 that names no code.
 */
import test, { type ExecutionContext } from 'ava';
import Koa from 'koa';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { AdapterError } from '../../../adapters/contract.ts';
import { samlError } from '../../../adapters/saml/errors.ts';
import { errorSpec } from '../../../gateway/error-registry.ts';
import { GatewayError } from '../../../gateway/errors.ts';
import { errorHandler } from '../../../gateway/http/error-handler.ts';
import { escapeHtml } from '../../../gateway/http/html.ts';
import { HsmError } from '../../../hsm/errors.ts';

const THROWS: Record<string, () => never> = {
  '/refused': () => {
    throw samlError('SAML_SIGNATURE_INVALID', { detail: 'digest mismatch' });
  },
  '/unknown-idp': () => {
    throw new AdapterError('ADAPTER_UNKNOWN', 'Unknown identity provider.', { detail: 'nope' });
  },
  '/unavailable': () => {
    throw samlError('SAML_IDP_UNAVAILABLE');
  },
  '/gateway': () => {
    throw new GatewayError('STEP_UP_PENDING', 409, 'a stronger check is already under way');
  },
  '/hsm-busy': () => {
    throw new HsmError('HSM_BUSY', 'too many signatures waiting for the token', { detail: 'waiting=1024' });
  },
  '/plain': () => {
    throw new Error('secret internals');
  },
};

async function serve(t: ExecutionContext): Promise<string> {
  const app = new Koa();
  app.use(errorHandler(pino({ level: 'silent' })));
  app.use((ctx) => THROWS[ctx.path]!());
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's handler settles each request itself (ctx.onerror): its promise never rejects
  const server: Server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = { accept: 'application/json' };

test('an AdapterError reaching the handler gets its registry status and code, not a 500', async (t) => {
  const base = await serve(t);
  const refused = await fetch(`${base}/refused`, { headers: json });
  t.is(refused.status, 400);
  t.is(((await refused.json()) as { error: string }).error, 'SAML_SIGNATURE_INVALID');
  const unknown = await fetch(`${base}/unknown-idp`, { headers: json });
  t.is(unknown.status, 400);
  t.is(((await unknown.json()) as { error: string }).error, 'ADAPTER_UNKNOWN');
});

test('an unavailable IdP is a 503 (never exposed above 500: the code stays INTERNAL)', async (t) => {
  const base = await serve(t);
  const answer = await fetch(`${base}/unavailable`, { headers: json });
  t.is(answer.status, 503);
  t.is(((await answer.json()) as { error: string }).error, 'INTERNAL');
});

test('the error page speaks the registry message in French by default and in English when asked', async (t) => {
  const base = await serve(t);
  const fr = await (await fetch(`${base}/refused`, { headers: { accept: 'text/html' } })).text();
  t.true(fr.includes('<html lang="fr">'));
  t.true(fr.includes(escapeHtml(errorSpec('SAML_SIGNATURE_INVALID').fr)));
  t.regex(fr, /Error code:\s*<code>SAML_SIGNATURE_INVALID<\/code>/);
  const en = await (
    await fetch(`${base}/gateway`, { headers: { accept: 'text/html', 'accept-language': 'en-GB,en;q=0.9' } })
  ).text();
  t.true(en.includes('<html lang="en">'));
  t.true(en.includes(escapeHtml(errorSpec('STEP_UP_PENDING').en)));
  t.regex(en, /Error code:\s*<code>STEP_UP_PENDING<\/code>/);
});

test('a GatewayError keeps its status; anything else is a generic 500 that leaks nothing', async (t) => {
  const base = await serve(t);
  const gateway = await fetch(`${base}/gateway`, { headers: json });
  t.is(gateway.status, 409);
  t.is(((await gateway.json()) as { error: string }).error, 'STEP_UP_PENDING');
  const plain = await fetch(`${base}/plain`, { headers: { accept: 'text/html' } });
  t.is(plain.status, 500);
  const page = await plain.text();
  t.regex(page, /Error code:\s*<code>INTERNAL<\/code>/);
  t.false(page.includes('secret internals'));
});

test('a saturated HSM (HSM_BUSY) is shed with 503 and Retry-After, never a 500 (issue #15)', async (t) => {
  const base = await serve(t);
  const answer = await fetch(`${base}/hsm-busy`, { headers: { accept: 'application/json' } });
  t.is(answer.status, 503);
  t.true(Number(answer.headers.get('retry-after')) >= 1);
  const page = await fetch(`${base}/hsm-busy`, { headers: { accept: 'text/html' } });
  t.is(page.status, 503);
  t.truthy(page.headers.get('retry-after'));
});
