/**
 * A person who opens an interaction page whose sign-in is gone (expired, started in another browser, a stale
 * link or bookmark) gets 400 `INTERACTION_NOT_FOUND` with the registry's words — not a 500 (oidc-provider's
 * SessionNotFound reached the error handler unmapped).
 */
import test from 'ava';
import { startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(() => fx?.stop());

for (const path of ['/interaction/no-such-sign-in', '/interaction/no-such-sign-in/complete'])
  test(`GET ${path} without its sign-in is 400 INTERACTION_NOT_FOUND`, async (t) => {
    const json = await fetch(`${fx.url}${path}`, { headers: { accept: 'application/json' } });
    t.is(json.status, 400);
    t.is(((await json.json()) as { error: string }).error, 'INTERACTION_NOT_FOUND');
    const page = await fetch(`${fx.url}${path}`, { headers: { accept: 'text/html' } });
    t.is(page.status, 400);
    t.regex(await page.text(), /Error code:\s*<code>INTERACTION_NOT_FOUND<\/code>/);
  });
