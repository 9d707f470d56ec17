/**
 * `browserBindings`: the browser's binding cookie hashed under the current key first, then under each of
 * `secrets.previousBrowserBindingKeys` in order, so that what was bound before a rotation compares equal; nothing
 * without a cookie (under no key), never a value another browser's cookie would give, and nothing is set.
 */
import test from 'ava';
import { createHmac } from 'node:crypto';
import { bindingKeys, browserBinding, browserBindings } from '../../../gateway/session/browser-binding.ts';
import { cookieRequest } from '../../helpers/cookie-request.ts';

const NEW = 'n'.repeat(32);
const OLD = 'o'.repeat(32);
const OLDER = 'p'.repeat(32);
const VALUE = 'v'.repeat(43);
const SECURE = { secure: true };
const keys = bindingKeys({ browserBindingKey: NEW, previousBrowserBindingKeys: [OLD, OLDER] });

const request = cookieRequest;

const bound = (key: string, value: string) =>
  createHmac('sha256', key).update(`browser-binding-v2\u0000${value}`).digest('base64url');

test('the current key first, then each previous one in order; nothing is set', (t) => {
  const { ctx, set } = request({ '__Host-gw_bb': VALUE });
  t.deepEqual(browserBindings(ctx, keys, SECURE), [bound(NEW, VALUE), bound(OLD, VALUE), bound(OLDER, VALUE)]);
  t.is<string | undefined, string | undefined>(
    browserBindings(ctx, keys, SECURE)[0],
    browserBinding(ctx, NEW, SECURE, 'compare'),
    'the first is what a start stores now',
  );
  t.is(set.size, 0);
});

test('a binding stored before a rotation is among them; another browser’s is not', (t) => {
  const mine = browserBindings(request({ '__Host-gw_bb': VALUE }).ctx, keys, SECURE);
  t.true(mine.includes(bound(OLD, VALUE)));
  const other = browserBindings(request({ '__Host-gw_bb': 'w'.repeat(43) }).ctx, keys, SECURE);
  t.false(other.includes(bound(OLD, VALUE)));
  t.false(other.includes(bound(NEW, VALUE)));
});

test('no binding cookie, or a malformed one: no binding under any key', (t) => {
  t.deepEqual(browserBindings(request({}).ctx, keys, SECURE), []);
  t.deepEqual(browserBindings(request({ '__Host-gw_bb': 'short' }).ctx, keys, SECURE), []);
});

test('without previous keys: the current binding alone', (t) => {
  const only = bindingKeys({ browserBindingKey: NEW, previousBrowserBindingKeys: [] });
  t.deepEqual(browserBindings(request({ '__Host-gw_bb': VALUE }).ctx, only, SECURE), [bound(NEW, VALUE)]);
});
