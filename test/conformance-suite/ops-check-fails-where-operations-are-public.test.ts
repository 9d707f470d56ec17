/**
 * OIDC-OPS-01 can fail: against a target that answers /metrics and /ready on its public URL (as the gateway
 * did before issue #10 item 13, to any loopback peer) or guards /admin/* with a bearer token there, it
 * fails, naming the path; against a target that answers 404 for them, it passes. Its pass against the real
 * gateway is in suite-passes-against-the-gateway.test.ts.
 */
import test from 'ava';
import { createServer, type Server } from 'node:http';
import { operationsNotPublic } from '../../conformance/suite/checks/oidc/operations-surface.ts';

async function target(answer: (path: string) => [number, string]): Promise<{ url: URL; server: Server }> {
  const server = createServer((req, res) => {
    const [status, body] = answer(req.url ?? '/');
    res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { url: new URL(`http://127.0.0.1:${address.port}/`), server };
}

const cases: Array<[string, (path: string) => [number, string], 'pass' | 'fail', RegExp]> = [
  [
    'metrics and readiness served to loopback (the old gateway)',
    (p) =>
      p === '/metrics'
        ? [200, '# TYPE gateway_logins_total counter\n']
        : p === '/ready'
          ? [200, '{"status":"ready","checks":{}}']
          : [404, ''],
    'fail',
    /\/metrics: HTTP 200 \(served\)/,
  ],
  [
    'an admin API behind a bearer token on the public URL',
    (p) => (p.startsWith('/admin/') ? [401, '{"error":"ADMIN_UNAUTHORIZED"}'] : [404, '']),
    'fail',
    /\/admin\/reviews: HTTP 401 \(served\)/,
  ],
  [
    'a readiness report under another status',
    (p) => (p === '/ready' ? [503, '{"status":"not_ready","checks":{"redis":false}}'] : [404, '']),
    'fail',
    /\/ready: HTTP 503 \(served\)/,
  ],
  ['none of them served', () => [404, 'Not Found'], 'pass', /\/metrics: HTTP 404; \/ready: HTTP 404/],
];

for (const [name, answer, verdict, observed] of cases) {
  test(`OIDC-OPS-01 ${verdict === 'pass' ? 'passes' : 'fails'}: ${name}`, async (t) => {
    const { url, server } = await target(answer);
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const outcome = await operationsNotPublic({ target: url });
    t.is(outcome.verdict, verdict);
    t.regex(outcome.observed, observed);
  });
}
