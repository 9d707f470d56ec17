/**
 * A person whose browser drops its session cookies while they are at the IdP (a restart; a mobile browser killed
 * while the person is in an identity app) still finishes the login: the browser-binding cookie lives as long as
 * the login's upstream records, which keep its binding and outlive any session standing on them
 * (`upstreamRecordSeconds`), set again at each login going upstream, so the IdP's answer still finds the browser
 * that began the login. The binding stays what it was: the same value, never a new one. A logout chain sets one
 * only when the browser has none, for the chain's life, and never lengthens it; a check that only reads it
 * (`keep`, `compare`) sets nothing. Real IdP (samlify), PostgreSQL, Redis and HSM.
 */
import test from 'ava';
import type { Context } from 'koa';
import { BINDING_COOKIE, browserBinding } from '../../../gateway/session/browser-binding.ts';
import { sessionLifeSeconds, upstreamRecordSeconds } from '../../../gateway/session/session-life.ts';
import { Browser } from '../../helpers/browser.ts';
import { authorizationRequest, RP_REDIRECT, startGatewayFixture } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

const KEY = 'k'.repeat(32);
const VALUE = 'v'.repeat(43);
const SECURE = { secure: true };

/** A request carrying `cookies`; what the gateway sets on the response, with its options, is kept in `set`. */
function request(cookies: Record<string, string>): {
  ctx: Context;
  set: Map<string, { value: string; maxAge?: number }>;
} {
  const set = new Map<string, { value: string; maxAge?: number }>();
  const ctx = {
    cookies: {
      get: (name: string) => cookies[name],
      set: (name: string, value: string, options: { maxAge?: number }) => {
        set.set(name, { value, ...(options.maxAge === undefined ? {} : { maxAge: options.maxAge }) });
      },
    },
  } as unknown as Context;
  return { ctx, set };
}

test('a login going upstream sets the binding cookie for as long as its upstream records live', (t) => {
  const ttl = { session: 8 * 3600, interaction: 600 };
  t.true(upstreamRecordSeconds(ttl) > sessionLifeSeconds(ttl), 'longer than any session standing on the login');
  const { ctx, set } = request({});
  const binding = browserBinding(ctx, KEY, SECURE, 'start', { seconds: upstreamRecordSeconds(ttl), extend: true });
  const cookie = set.get(`__Host-${BINDING_COOKIE}`);
  t.truthy(cookie);
  t.is(cookie!.maxAge, upstreamRecordSeconds(ttl) * 1000);
  t.is(browserBinding(request({ [`__Host-${BINDING_COOKIE}`]: cookie!.value }).ctx, KEY, SECURE, 'compare'), binding);
});

test('a later login going upstream sets the same value again, from now', (t) => {
  const holder = { [`__Host-${BINDING_COOKIE}`]: VALUE };
  const { ctx, set } = request(holder);
  const binding = browserBinding(ctx, KEY, SECURE, 'start', { seconds: 600, extend: true });
  t.deepEqual(set.get(`__Host-${BINDING_COOKIE}`), { value: VALUE, maxAge: 600_000 });
  t.is(browserBinding(request(holder).ctx, KEY, SECURE, 'compare'), binding, 'the binding is unchanged');
});

test('a logout chain sets a binding cookie only when the browser has none, and never lengthens one', (t) => {
  const held = request({ [`__Host-${BINDING_COOKIE}`]: VALUE });
  const binding = browserBinding(held.ctx, KEY, SECURE, 'start', { seconds: 600, extend: false });
  t.is(held.set.size, 0);
  t.is(browserBinding(request({ [`__Host-${BINDING_COOKIE}`]: VALUE }).ctx, KEY, SECURE, 'compare'), binding);
  const none = request({});
  browserBinding(none.ctx, KEY, SECURE, 'start', { seconds: 600, extend: false });
  t.is(none.set.get(`__Host-${BINDING_COOKIE}`)?.maxAge, 600_000);
});

test('a check that only reads the binding sets no cookie', (t) => {
  for (const use of ['keep', 'compare'] as const) {
    const held = request({ [`__Host-${BINDING_COOKIE}`]: VALUE });
    t.truthy(browserBinding(held.ctx, KEY, SECURE, use));
    const none = request({});
    t.is(browserBinding(none.ctx, KEY, SECURE, use), undefined);
    t.is(held.set.size + none.set.size, 0, use);
  }
});

test('a browser restarted while the person is at the IdP still finishes the login', async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const { url, state } = await authorizationRequest(fx.rp);
  const browser = new Browser();
  let restarted = false;
  const done = await loginJourney(url, {
    username: 'marie',
    redirectUri: RP_REDIRECT,
    browser,
    beforeAcs: (form) => {
      // the person is at the IdP: the browser closes and opens again, then posts the IdP's answer
      browser.restart();
      restarted = true;
      return form;
    },
  });
  t.true(restarted);
  t.is(done.url.searchParams.get('state'), state);
  t.truthy(done.url.searchParams.get('code'), `the login finished: ${done.url.href} ${done.html.slice(0, 300)}`);
});
