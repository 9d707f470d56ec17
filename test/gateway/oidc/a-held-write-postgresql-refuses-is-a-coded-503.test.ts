/**
 * A request's held writes (session/held-writes.ts, oidc/request-writes-together.ts) go to PostgreSQL after
 * oidc-provider has built its answer. When PostgreSQL's connection dies under that write, the answer is the
 * registered 503 (`temporarily_unavailable`, `error_detail` `DATABASE_UNAVAILABLE`, Retry-After), seen as an
 * oidc-provider error event, never the tokens or the code, and never Koa's bare 500/503 with a stack.
 * Real PostgreSQL: a trigger on `session_records` ends its own backend (`pg_terminate_backend`) mid-insert.
 */
import test from 'ava';
import pg from 'pg';
import type { KoaContextWithOIDC } from 'oidc-provider';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

const DIE_ON_INSERT = (kinds: string) => `
  create or replace function test_die_on_insert() returns trigger language plpgsql as $$
  begin perform pg_terminate_backend(pg_backend_pid()); return new; end $$;
  drop trigger if exists test_die_on_insert on session_records;
  create trigger test_die_on_insert before insert on session_records
    for each row when (new.kind in (${kinds})) execute function test_die_on_insert();`;
const HEAL = 'drop trigger if exists test_die_on_insert on session_records;';

let fx: GatewayFixture;
let admin: pg.Client;
const events: { event: string; detail?: string }[] = [];
test.before(async () => {
  fx = await startGatewayFixture({ boot: { fraud: { checkpointMs: 0 } } });
  admin = new pg.Client({ connectionString: fx.deployment.env.GW_DATABASE_URL });
  await admin.connect();
  const provider = fx.gateway.services.holder.provider as unknown as NodeJS.EventEmitter;
  for (const event of ['grant.error', 'server_error', 'authorization.error'])
    provider.on(event, (_ctx: KoaContextWithOIDC, error: { error_detail?: string }) =>
      events.push({ event, detail: error.error_detail }),
    );
});
test.after.always(async () => {
  await admin?.end();
  await fx?.stop();
});

test.serial(
  'the token endpoint: PostgreSQL dying under the held write of the tokens is a coded 503, no token',
  async (t) => {
    events.length = 0;
    await admin.query(HEAL);

    const request = await authorizationRequest(fx.rp);
    const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
    const code = journey.url.searchParams.get('code');
    t.truthy(code);

    await admin.query(DIE_ON_INSERT(`'AccessToken', 'RefreshToken'`));
    const answer = await fetch(`${fx.url}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${fx.deployment.client.client_id}:${fx.deployment.client.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: code!,
        redirect_uri: RP_REDIRECT,
        code_verifier: request.verifier,
      }),
    });
    const text = await answer.text();
    t.is(answer.status, 503, text);
    t.is(answer.headers.get('retry-after'), '5');
    t.notRegex(text, /access_token|id_token/, 'never a token');
    t.like(JSON.parse(text), { error: 'temporarily_unavailable' });
    t.deepEqual(events, [{ event: 'grant.error', detail: 'DATABASE_UNAVAILABLE' }], 'seen as an oidc error, coded');
  },
);

test.serial(
  'the resumption: PostgreSQL dying under the held write of the session is a coded 503, no code',
  async (t) => {
    events.length = 0;
    await admin.query(HEAL);

    await admin.query(DIE_ON_INSERT(`'Session'`));
    const request = await authorizationRequest(fx.rp);
    const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
    t.is(journey.url.searchParams.get('code'), null, 'never a code');
    const atRp = journey.url.toString().startsWith(RP_REDIRECT);
    if (atRp) {
      t.is(journey.url.searchParams.get('error'), 'temporarily_unavailable');
      t.is(journey.url.searchParams.get('state'), request.state);
    } else t.is(journey.status, 503, journey.html.slice(0, 400));
    t.deepEqual(
      events,
      [{ event: 'authorization.error', detail: 'DATABASE_UNAVAILABLE' }],
      'seen as an oidc error, coded',
    );

    await admin.query(HEAL);
    const again = await loginJourney((await authorizationRequest(fx.rp)).url, {
      username: 'marie',
      redirectUri: RP_REDIRECT,
    });
    t.truthy(again.url.searchParams.get('code'), 'once PostgreSQL answers, the person signs in');
  },
);
