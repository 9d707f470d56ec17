/**
 * The review CLI carries an operator's bearer token (gateway/review/cli.ts): over https, or over plain http to a
 * loopback address only. An `http://` URL of another host, or a URL that is not http(s), is refused with exit code
 * 2 before anything is sent: a listener there (this test's own, on all addresses) sees no request.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';

const run = (url: string) =>
  promisify(execFile)(process.execPath, ['gateway/review/cli.ts', 'list'], {
    env: { ...process.env, GW_OPS_URL: url, GW_OPERATOR_TOKEN: 'x'.repeat(40) },
    encoding: 'utf8',
  }).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => error,
  );

test('an http URL of another host, or no http(s) URL, is refused before the token is sent', async (t) => {
  for (const url of ['http://192.0.2.10:9464', 'http://ops.example:9464', 'ftp://127.0.0.1:9464', 'not a url']) {
    const refused = await run(url);
    t.is(refused.code, 2, url);
    t.regex(refused.stderr, /refusing to send the operator token in clear|not an http\(s\) URL/, url);
  }
});

test('a non-loopback address of this machine over http gets no request at all', async (t) => {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (address === undefined) {
    t.pass('no non-loopback IPv4 address on this machine: the first test covers the refusal');
    return;
  }
  let seen = 0;
  const server = createServer((_req, res) => {
    seen += 1;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, address, () => resolve()));
  t.teardown(() => server.close());
  const { port } = server.address() as { port: number };
  const refused = await run(`http://${address}:${port}`);
  t.is(refused.code, 2);
  t.is(seen, 0, 'no request reached the listener');
});
