/**
 * Settings that would quietly weaken the gateway fail at boot with CONFIG_INVALID naming what is wrong (config review,
 * thirty-seventh round): an environment that turns off certificate checks, a trusted proxy block so wide the clients
 * inside it choose their own address, a lifetime without a ceiling, an issuer OIDC forbids, a `__proto__` key that an
 * object would drop without a word; and an IdP named like an Object member gets its own rate, not Object's member.
 */
import test from 'ava';
import { loadConfig } from '../../../gateway/config/load.ts';
import { parseDatabase } from '../../../gateway/config/stores.ts';
import { ConfigError } from '../../../gateway/errors.ts';
import { requestBuckets } from '../../../gateway/ratelimit/request-buckets.ts';
import { dir, env, failsAt, valid, type Raw } from './config-bed.ts';

/** Runs `body` with NODE_TLS_REJECT_UNAUTHORIZED set to `value`, restored after (Node reads it at each connection). */
function withTlsChecksOff(value: string, body: () => void): void {
  const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = value;
  try {
    body();
  } finally {
    if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
  }
}

test.serial(
  'NODE_TLS_REJECT_UNAUTHORIZED=0 stops the boot, and a database URL asking for a verified TLS is refused under it',
  (t) => {
    withTlsChecksOff('0', () => {
      const error = t.throws(() => loadConfig(valid(), { env, baseDir: dir }), { instanceOf: ConfigError });
      t.is(error?.code, 'CONFIG_INVALID');
      t.is(error?.path, 'NODE_TLS_REJECT_UNAUTHORIZED');
      const verified = 'postgres://u:secret-pw@db.example/gw?sslmode=verify-full';
      const refused = t.throws(() => parseDatabase({ url: { env: 'DB' } }, { DB: verified }), {
        instanceOf: ConfigError,
      });
      t.is(refused?.path, 'database.url');
      t.notRegex(refused!.message, /secret-pw/, 'the URL is never written');
      // a URL asking for no TLS at all (a Unix socket, a loopback) has nothing to verify
      t.is(
        parseDatabase({ url: { env: 'DB' } }, { DB: 'postgres://db/gw?sslmode=disable' }).url,
        'postgres://db/gw?sslmode=disable',
      );
    });
    withTlsChecksOff('1', () => t.notThrows(() => loadConfig(valid(), { env, baseDir: dir })));
  },
);

test('a trusted proxy block wider than an IPv4 /8 or an IPv6 /7 is refused naming its entry', (t) => {
  for (const [block, index] of [
    ['0.0.0.0/0', 1],
    ['128.0.0.0/1', 1],
    ['10.0.0.0/7', 1],
    ['::/0', 1],
    ['fc00::/6', 1],
    // through the IPv4-mapped addresses, which every IPv4 peer is matched against (review, thirty-seventh round)
    ['::ffff:0:0/96', 1],
    ['::ffff:0.0.0.0/96', 1],
    ['::ffff:10.0.0.0/103', 1],
    ['::/7', 1],
    ['::/8', 1],
  ] as const)
    failsAt(t, (c) => (c.trustedProxies = ['10.0.0.5', block]), `trustedProxies[${index}]`, /wider than/);
  t.notThrows(() =>
    loadConfig({ ...valid(), trustedProxies: ['::ffff:10.0.0.0/104', '::ffff:192.0.2.7'] }, { env, baseDir: dir }),
  );
  const taken = loadConfig(
    { ...valid(), trustedProxies: ['10.0.0.0/8', 'fc00::/7', '192.0.2.7', '2001:db8::1/128'] },
    { env, baseDir: dir },
  );
  t.deepEqual(taken.trustedProxies, ['10.0.0.0/8', 'fc00::/7', '192.0.2.7', '2001:db8::1/128']);
});

test('every lifetime has a ceiling, named when passed', (t) => {
  for (const [field, over] of [
    ['session', 7 * 86_400 + 1],
    ['idToken', 86_401],
    ['accessToken', 31_536_000],
    ['refreshToken', 90 * 86_400 + 1],
    ['interaction', 86_401],
    ['grant', Number.MAX_SAFE_INTEGER],
    ['authorizationCode', 601],
  ] as const)
    failsAt(t, (c) => (c.ttl = { [field]: over }), `ttl.${field}`);
  const longest = loadConfig(
    { ...valid(), ttl: { session: 7 * 86_400, accessToken: 86_400, refreshToken: 90 * 86_400, grant: 90 * 86_400 } },
    { env, baseDir: dir },
  );
  t.is(longest.ttl.accessToken, 86_400);
});

test('an issuer with a query, a user name or password, or a wildcard host is refused', (t) => {
  for (const issuer of [
    'https://gw.example/?tenant=a',
    'https://gw.example?',
    'https://gw.example/#',
    'https://user:pw@gw.example',
    'https://*.gw.example',
  ])
    failsAt(t, (c) => (c.issuer = issuer), 'issuer');
  t.is(
    loadConfig({ ...valid(), issuer: 'https://gw.example/fc/' }, { env, baseDir: dir }).issuer,
    'https://gw.example/fc',
  );
});

test('a __proto__ key anywhere in the file is an unknown setting, named by its path', (t) => {
  const withKey = (path: string, at: (c: Raw) => object) => {
    const config = valid();
    Object.defineProperty(at(config), '__proto__', { value: { enabled: false }, enumerable: true });
    const error = t.throws(() => loadConfig(config, { env, baseDir: dir }), { instanceOf: ConfigError });
    t.is(error?.path, path);
  };
  withKey('__proto__', (c) => c);
  withKey(
    'rateLimit.perIdp.idps.__proto__',
    (c) => ((c.rateLimit = { perIdp: { idps: {} } }), c.rateLimit.perIdp.idps),
  );
  withKey('clients[0].__proto__', (c) => c.clients[0]);
  // as JSON.parse reads a file: the key is an own property there
  const parsed = JSON.parse(`{"__proto__": {"x": 1}}`) as Record<string, unknown>;
  t.true(Object.hasOwn(parsed, '__proto__'));
});

test("an IdP named like an Object member takes its own rate or the default, never Object's member", (t) => {
  const config = loadConfig(
    { ...valid(), rateLimit: { perIdp: { default: 50, idps: { constructor: 70 } } } },
    { env, baseDir: dir },
  );
  const buckets = requestBuckets(config.rateLimit, 's'.repeat(32));
  t.is(buckets.idpResponse('constructor', 1)[0]!.perSecond, 70);
  for (const idp of ['toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
    const [bucket] = buckets.idpResponse(idp, 1);
    t.is(bucket!.perSecond, 50, idp);
    t.true(Number.isFinite(bucket!.capacity), idp);
  }
  // and with no rate of its own configured, `constructor` takes the default (it took Object's constructor: NaN)
  const plain = requestBuckets(loadConfig(valid(), { env, baseDir: dir }).rateLimit, 's'.repeat(32));
  t.true(Number.isFinite(plain.idpResponse('constructor', 1)[0]!.perSecond));
});
