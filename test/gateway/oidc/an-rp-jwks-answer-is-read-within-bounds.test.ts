/**
 * oidc-provider fetches a `private_key_jwt` RP's `jwks_uri` when a client assertion names a key it does not hold:
 * anyone can make it do so with a bogus assertion. What the RP's server answers is read within bounds
 * (gateway/oidc/provider-fetch.ts, the provider's `fetch` and `fetchResponseBodyLimits`):
 *
 * - an answer larger than `PROVIDER_FETCH_LIMITS.jwks_uri` is refused, and so is a small compressed answer that
 *   inflates past it (the library read a `jwks_uri` answer whole by default);
 * - a redirect is an error, not the RP's keys (an https `jwks_uri` answering 302 to `http://`);
 * - a JWKS of an ordinary size is read.
 *
 * The provider here is oidc-provider with the gateway's `fetch` and limits (the JWKS server is on loopback, so it is
 * registered as the loopback exception of the SSRF guard, as a back-channel URI would be).
 */
import test, { type ExecutionContext } from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import Provider from 'oidc-provider';
import { fetchAllowingRegisteredLoopback, PROVIDER_FETCH_LIMITS } from '../../../gateway/oidc/provider-fetch.ts';

const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const JWKS = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' }] });
/** One MiB: past the bound (checked below), as a hostile server's answer would be, by far. */
const LARGE = JSON.stringify({ keys: [], padding: 'x'.repeat(1024 * 1024) });
const BOMB = gzipSync(Buffer.from(JSON.stringify({ keys: [], padding: '0'.repeat(32 * 1024 * 1024) })));

let server: Server;
let origin: string;
test.before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ordinary') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JWKS);
    if (req.url === '/large') return void res.writeHead(200, { 'content-type': 'application/json' }).end(LARGE);
    if (req.url === '/compressed-bomb')
      return void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(BOMB);
    if (req.url === '/moved') return void res.writeHead(302, { location: '/ordinary' }).end();
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after.always(() => server.close());

/** The keystore of a private_key_jwt client whose jwks_uri is `${origin}${path}`, in a provider built as ours is. */
async function refreshKeysAt(path: string): Promise<void> {
  const jwksUri = `${origin}${path}`;
  const provider = new Provider('http://127.0.0.1:1', {
    clients: [
      {
        client_id: 'rp',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks_uri: jwksUri,
        redirect_uris: ['https://rp.example/callback'],
      },
    ],
    fetch: fetchAllowingRegisteredLoopback([jwksUri]) as never,
    fetchResponseBodyLimits: PROVIDER_FETCH_LIMITS,
  });
  const client = (await provider.Client.find('rp')) as unknown as { asymmetricKeyStore: { refresh(): Promise<void> } };
  await client.asymmetricKeyStore.refresh();
}

test('a JWKS of an ordinary size is read', async (t) => {
  await t.notThrowsAsync(refreshKeysAt('/ordinary'));
});

/**
 * The library stops reading past the bound: "response too large", or, for an answer without a length, its own error
 * cancelling the stream it is iterating (the iteration's end cancels it).
 */
const STOPPED_READING = /too large|ReadableStream is locked/;

/** The keys are not refreshed: oidc-provider's `invalid_client_metadata`, and why (the error it wraps). */
async function refused(t: ExecutionContext, path: string): Promise<string> {
  const error = await t.throwsAsync(refreshKeysAt(path), { message: 'invalid_client_metadata' });
  return String((error?.cause as Error | undefined)?.message ?? '');
}

test('an answer larger than the bound is refused', async (t) => {
  t.true(LARGE.length > PROVIDER_FETCH_LIMITS.jwks_uri);
  t.regex(await refused(t, '/large'), STOPPED_READING);
});

test('a small compressed answer that inflates past the bound is refused', async (t) => {
  t.true(BOMB.length < PROVIDER_FETCH_LIMITS.jwks_uri, 'the compressed answer itself is under the bound');
  t.regex(await refused(t, '/compressed-bomb'), STOPPED_READING);
});

test('a redirect is an error, not the keys it points to', async (t) => {
  t.regex(await refused(t, '/moved'), /fetch failed|redirect/i);
});
