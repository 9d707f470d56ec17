/**
 * Signed cookies (oidc-provider's `_interaction`, `_session`, … and ours) are signed by `CookieKeys`: keygrip's
 * format and rotation rules, one HMAC per check instead of keygrip's three (`tsscmp`'s double HMAC). A
 * cookie signed before the upgrade verifies after it and the other way round; a tampered signature, another
 * value or a key nobody configured is refused; the first key signs, every key verifies.
 */
import { createRequire } from 'node:module';
import test from 'ava';
import { CookieKeys } from '../../../gateway/http/cookie-keys.ts';
import { authorizationRequest, startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';

interface Grip {
  sign(data: string): string;
  verify(data: string, digest: string): boolean;
  index(data: string, digest: string): number;
}
const Keygrip = createRequire(import.meta.url)('keygrip') as (keys: string[]) => Grip;

const OLD = 'an-old-cookie-key-of-at-least-thirty-two-bytes';
const NEW = 'the-new-cookie-key-of-at-least-thirty-two-bytes+/=é';
const DATA = ['_session=Kx3-9_aQ', '_interaction=' + 'z'.repeat(21), '', 'ü=€/+=', 'a'.repeat(5000)];

test('a cookie signed by keygrip verifies with CookieKeys, and the other way round, same signature', (t) => {
  for (const keys of [[NEW], [NEW, OLD], [OLD, NEW]]) {
    const grip = Keygrip(keys);
    const ours = new CookieKeys(keys);
    for (const data of DATA) {
      t.is(ours.sign(data), grip.sign(data));
      t.is(ours.index(data, grip.sign(data)), 0);
      t.is(grip.index(data, ours.sign(data)), 0);
      t.true(ours.verify(data, grip.sign(data)));
    }
  }
});

test('rotation as keygrip: the first key signs, a later key verifies with its position, a removed key does not', (t) => {
  const before = new CookieKeys([OLD]);
  const after = new CookieKeys([NEW, OLD]);
  const signedBefore = before.sign(DATA[0]!);
  t.is(after.index(DATA[0]!, signedBefore), 1);
  t.is(Keygrip([NEW, OLD]).index(DATA[0]!, signedBefore), 1);
  t.not(after.sign(DATA[0]!), signedBefore);
  t.is(new CookieKeys([NEW]).index(DATA[0]!, signedBefore), -1);
});

test('a tampered signature, another value, a truncated or padded signature or a non-string is refused', (t) => {
  const ours = new CookieKeys([NEW, OLD]);
  const signature = ours.sign(DATA[0]!);
  const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
  for (const digest of [
    flipped,
    signature.slice(0, -1),
    signature + '=',
    signature + 'A',
    '',
    signature.toUpperCase(),
  ]) {
    if (digest === signature) continue;
    t.is(ours.index(DATA[0]!, digest), -1, digest);
    t.false(ours.verify(DATA[0]!, digest));
  }
  t.is(ours.index('_session=other', signature), -1);
  t.is(ours.index(DATA[0]!, undefined as unknown as string), -1);
  t.throws(() => new CookieKeys([]), { instanceOf: TypeError });
});

let fx: GatewayFixture | undefined;
test.after.always(async () => {
  await fx?.stop();
});

test('the gateway and oidc-provider sign with CookieKeys, and a live cookie verifies with keygrip', async (t) => {
  fx = await startGatewayFixture();
  const keys = fx.gateway.services.config.secrets.cookieKeys;
  t.true((fx.gateway.app.keys as unknown) instanceof CookieKeys);
  t.true((fx.gateway.services.holder.provider.keys as unknown) instanceof CookieKeys);
  const { url } = await authorizationRequest(fx.rp);
  const response = await fetch(url, { redirect: 'manual' });
  const cookies = response.headers.getSetCookie().map((c) => c.split(';')[0]!);
  const signatures = cookies.filter((c) => c.includes('.sig='));
  t.true(signatures.length > 0);
  for (const sig of signatures) {
    const [sigName, digest] = sig.split('=') as [string, string];
    const name = sigName.slice(0, -'.sig'.length);
    const cookie = cookies.find((c) => c.startsWith(`${name}=`))!;
    t.true(Keygrip(keys).verify(cookie, digest), cookie);
    t.is(new CookieKeys(keys).index(cookie, digest), 0);
  }
});
