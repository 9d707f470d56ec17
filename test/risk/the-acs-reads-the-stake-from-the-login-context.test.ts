/**
 * Issue #14 (Redis round trips): the ACS takes what the RP said is at stake (RFC 9396
 * `authorization_details`) from the login's context, kept when the login started, instead of reading
 * oidc-provider's interaction once more: the request that posts the SAML response reads no `oidc:Interaction`
 * key, and the 120 € payment still demands its step-up (tier 2 scored). A context written by the code before
 * this (no `params` in it: a rolling upgrade) is still read right: the ACS then reads the interaction, and the
 * payment is scored the same. Real gateway, demo IdP, openid-client RP, real Redis; commands counted on
 * ioredis's sendCommand, grouped by the HTTP request being served (requests are sequential here).
 */
import { Server } from 'node:http';
import test from 'ava';
import { Redis } from 'ioredis';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { loginJourney } from '../helpers/login-journey.ts';

let requests: Array<{ route: string; keys: string[] }> | undefined;
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  if (requests && requests.length > 0)
    requests.at(-1)!.keys.push(`${args[0].name.toUpperCase()} ${String(args[0].args[0])}`);
  return sendCommand.apply(this, args);
};
const emit = Server.prototype.emit;
Server.prototype.emit = function markedEmit(this: Server, event: string | symbol, ...args: unknown[]) {
  if (event === 'request' && requests) {
    const req = args[0] as { method?: string; url?: string };
    requests.push({ route: `${req.method} ${(req.url ?? '').split('?')[0]}`, keys: [] });
  }
  return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
} as typeof emit;

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(async () => {
  await fx?.stop();
});

const payment = [{ type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '120.00' } }];

async function factorsOf(loginId: string): Promise<string[]> {
  const { rows } = await fx.gateway.services.pool.query('select assessment from risk_assessments where login_id = $1', [
    loginId,
  ]);
  return rows[0].assessment.factors as string[];
}

/** The login contexts in flight (this file runs one login at a time). */
async function contextKeys(): Promise<string[]> {
  const redis = fx.gateway.services.redis;
  const prefix = (redis.options.keyPrefix as string | undefined) ?? '';
  const keys = await redis.keys(`${prefix}login:*`);
  return keys.filter((k) => !k.endsWith(':outcome')).map((k) => k.slice(prefix.length));
}

test.serial('the ACS reads no interaction: the stake comes from the login context, and is scored', async (t) => {
  const request = await authorizationRequest(fx.rp, { authorization_details: JSON.stringify(payment) });
  requests = [];
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  const seen = requests;
  requests = undefined;
  const acs = seen.filter(({ route }) => route === 'POST /saml/acs');
  t.is(acs.length, 1);
  t.deepEqual(
    acs[0]!.keys.filter((k) => k.includes('oidc:Interaction:')),
    [],
    'the ACS request reads no oidc:Interaction key',
  );
  t.false(journey.url.toString().startsWith(RP_REDIRECT), 'stepped up: the payment was read');
  t.true((await factorsOf(journey.loginId!)).includes('transaction:tier2'));
});

test.serial('a context written without the stake (the code before) still gets it from the interaction', async (t) => {
  const request = await authorizationRequest(fx.rp, { authorization_details: JSON.stringify(payment) });
  const redis = fx.gateway.services.redis;
  const earlier = new Set(await contextKeys()); // the first test's login, still stepping up
  let rewritten = 0;
  const journey = await loginJourney(request.url, {
    username: 'marie',
    redirectUri: RP_REDIRECT,
    beforeAcs: async (form) => {
      // as the code before this wrote it: no `params`
      for (const key of (await contextKeys()).filter((k) => !earlier.has(k))) {
        const context = JSON.parse((await redis.get(key))!) as Record<string, unknown>;
        delete context.params;
        await redis.set(key, JSON.stringify(context), 'KEEPTTL');
        rewritten += 1;
      }
      return form;
    },
  });
  t.is(rewritten, 1);
  t.false(journey.url.toString().startsWith(RP_REDIRECT), 'stepped up: the payment was read');
  t.true((await factorsOf(journey.loginId!)).includes('transaction:tier2'));
});
