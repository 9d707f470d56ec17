/**
 * A client whose redirect URIs span several hosts (issue #13 item 1), OIDC Core §8.1:
 * - without a `sector_identifier_uri` it is refused at boot, naming the client (CONFIG_INVALID), instead of
 *   failing every login with `invalid_client_metadata`; an http sector_identifier_uri is refused too;
 * - with one, the document is fetched over https (a test CA the gateway is configured to trust) at boot: a
 *   document that misses a redirect URI (`SECTOR_IDENTIFIER_INVALID`), or an untrusted server
 *   (`SECTOR_IDENTIFIER_UNREACHABLE`), refuses that client, audited with its code; the gateway boots and serves every
 *   other client (it stopped the boot: one RP's server down stopped every instance's start, for every RP);
 * - a person logs in through either redirect URI and gets the same pairwise `sub` (one sector), different
 *   from another RP's;
 * - on refresh, a document that stops listing a redirect URI refuses the client's authorization requests
 *   (`SECTOR_IDENTIFIER_INVALID`, audited) until it lists them again; an unreachable document keeps the
 *   last verdict.
 */
import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { bootGateway } from '../../../gateway/boot.ts';
import { loadConfig } from '../../../gateway/config/load.ts';
import { ConfigError, GatewayError, type ErrorCode } from '../../../gateway/errors.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../../helpers/gateway-fixture.ts';
import { startHttpsDocumentServer, type HttpsDocumentServer } from '../../helpers/https-document-server.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

const SECOND_REDIRECT = 'http://127.0.0.1:10/callback';
const BOTH = JSON.stringify([RP_REDIRECT, SECOND_REDIRECT]);

let docs: HttpsDocumentServer;
let fx: GatewayFixture;
let spanning: oidc.Configuration;
test.before(async () => {
  docs = await startHttpsDocumentServer();
  docs.serve('/sector.json', BOTH);
  fx = await startGatewayFixture({
    rawConfig: (raw) => {
      raw.sectorIdentifiers = { caFiles: [docs.caFile] };
      (raw.clients as unknown[]).push({
        client_id: 'two-hosts-rp',
        client_secret: { env: 'GW_DEMO_RP_SECRET' },
        redirect_uris: [RP_REDIRECT, SECOND_REDIRECT],
        sector_identifier_uri: `${docs.origin}/sector.json`,
        grant_types: ['authorization_code', 'refresh_token'],
      });
    },
  });
  spanning = await oidc.discovery(new URL(fx.url), 'two-hosts-rp', fx.deployment.env.GW_DEMO_RP_SECRET!, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
});
test.after.always(async () => {
  await fx?.stop();
  await docs?.stop();
});

type RawClient = Record<string, unknown>;
function rawWith(change: (clients: RawClient[], raw: Record<string, unknown>) => void): Record<string, unknown> {
  const raw = structuredClone(fx.deployment.rawConfig);
  change(raw.clients as RawClient[], raw);
  return raw;
}

test('redirect URIs on two hosts (or ports) without sector_identifier_uri are refused at boot, naming the client', (t) => {
  const raw = rawWith((clients) => {
    delete clients[1]!.sector_identifier_uri;
  });
  const error = t.throws(() => loadConfig(raw, { env: fx.deployment.env }), { instanceOf: ConfigError }) as ConfigError;
  t.is(error.code, 'CONFIG_INVALID');
  t.is(error.path, 'clients[1].sector_identifier_uri');
  t.regex(error.message, /two-hosts-rp/);
});

test('an http sector_identifier_uri is refused, even on loopback', (t) => {
  const raw = rawWith((clients) => {
    clients[1]!.sector_identifier_uri = 'http://127.0.0.1:10/sector.json';
  });
  const error = t.throws(() => loadConfig(raw, { env: fx.deployment.env }), { instanceOf: ConfigError }) as ConfigError;
  t.is(error.path, 'clients[1].sector_identifier_uri');
});

/** Boots a second gateway with `raw`: the client's refusal (its code, audited) and the other client's use. */
async function bootRefuses(t: ExecutionContext, raw: Record<string, unknown>, code: ErrorCode): Promise<void> {
  const config = loadConfig(raw, { env: fx.deployment.env });
  const gateway = await bootGateway(config, { rotation: { intervalMs: 0 } });
  t.teardown(() => gateway.close());
  const error = t.throws(() => gateway.services.sectors.assertUsable('two-hosts-rp'), { instanceOf: GatewayError });
  t.is(error?.code, 'SECTOR_IDENTIFIER_INVALID', 'its logins are refused (403)');
  t.notThrows(() => gateway.services.sectors.assertUsable(fx.deployment.client.client_id), 'every other client serves');
  const { rows } = await gateway.services.pool.query<{ error_code: string }>(
    "select error_code from audit_log where session_id = 'client:two-hosts-rp' order by seq desc limit 1",
  );
  t.is(rows[0]?.error_code, code, 'audited with its code');
}

test.serial('a document that misses a redirect URI refuses that client at boot, not the boot', async (t) => {
  docs.serve('/short.json', JSON.stringify([RP_REDIRECT]));
  await bootRefuses(
    t,
    rawWith((clients) => (clients[1]!.sector_identifier_uri = `${docs.origin}/short.json`)),
    'SECTOR_IDENTIFIER_INVALID',
  );
});

test.serial(
  'a server whose certificate the gateway does not trust refuses that client at boot, not the boot',
  async (t) => {
    await bootRefuses(
      t,
      rawWith((_clients, raw) => delete raw.sectorIdentifiers),
      'SECTOR_IDENTIFIER_UNREACHABLE',
    );
  },
);

/** A login of marie at `rp` through `redirectUri`: its tokens. */
test.serial(
  'a document the boot could not reach is tried again soon, and its refreshes are not refused meanwhile',
  async (t) => {
    docs.serve('/flaky.json', 'restarting', 503);
    const config = loadConfig(
      rawWith((clients) => (clients[1]!.sector_identifier_uri = `${docs.origin}/flaky.json`)),
      { env: fx.deployment.env },
    );
    const gateway = await bootGateway(config, { rotation: { intervalMs: 0 }, sectorRetryMs: 200 });
    t.teardown(() => gateway.close());
    const { sectors } = gateway.services;
    t.throws(() => sectors.assertUsable('two-hosts-rp'), { instanceOf: GatewayError }, 'its logins wait');
    t.notThrows(() => sectors.assertNoInvalidVerdict('two-hosts-rp'), 'no verdict: its refreshes go on');
    docs.serve('/flaky.json', BOTH); // the RP's server is back
    let usable = false;
    for (let i = 0; i < 50 && !usable; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      usable = (() => {
        try {
          sectors.assertUsable('two-hosts-rp');
          return true;
        } catch {
          return false;
        }
      })();
    }
    t.true(usable, 'served again without waiting for the hourly refresh');
  },
);

async function tokensVia(redirectUri: string, rp = spanning) {
  const request = await authorizationRequest(rp, { redirect_uri: redirectUri });
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri });
  if (!journey.url.searchParams.get('code'))
    throw new Error(`no code via ${redirectUri}: ${journey.url} ${journey.html.slice(0, 300)}`);
  const tokens = await oidc.authorizationCodeGrant(
    rp,
    journey.url,
    { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce },
    { redirect_uri: redirectUri },
  );
  return tokens;
}

async function subVia(redirectUri: string, rp = spanning): Promise<string> {
  return String((await tokensVia(redirectUri, rp)).claims()!.sub);
}

/** A refresh of `refreshToken` by the spanning client: its tokens, or the error it was answered. */
async function refreshAs(refreshToken: string): Promise<{ refreshToken?: string; error?: string }> {
  try {
    return { refreshToken: (await oidc.refreshTokenGrant(spanning, refreshToken)).refresh_token };
  } catch (error) {
    return { error: (error as { error?: string }).error ?? String(error) };
  }
}

test.serial('a person gets the same sub through either redirect URI, not the sub another RP gets', async (t) => {
  const first = await subVia(RP_REDIRECT);
  const second = await subVia(SECOND_REDIRECT);
  t.is(first, second);
  t.not(first, await subVia(RP_REDIRECT, fx.rp));
});

async function authorizeStatus(): Promise<{ status: number; code?: string }> {
  const request = await authorizationRequest(spanning);
  const response = await fetch(request.url, { redirect: 'manual', headers: { accept: 'application/json' } });
  if (response.status !== 403) {
    await response.body?.cancel();
    return { status: response.status };
  }
  return { status: response.status, code: ((await response.json()) as { error: string }).error };
}

/** The audit trail of the spanning client's sector changes after `seq`, as `to/errorCode`. */
async function sectorTrail(after = 0): Promise<string[]> {
  const { rows } = await fx.gateway.services.pool.query<{ to_state: string; error_code: string | null }>(
    "select to_state, error_code from audit_log where session_id = 'client:two-hosts-rp' and seq > $1 order by seq",
    [after],
  );
  return rows.map((r) => `${r.to_state}/${String(r.error_code)}`);
}

test.serial(
  'on refresh, a document that stops listing a redirect URI refuses the client until it lists it again',
  async (t) => {
    const sectors = fx.gateway.services.sectors;
    // the boots above refused this client in their own gateways (audited in the same database): after them
    const { rows } = await fx.gateway.services.pool.query<{ seq: string }>(
      'select coalesce(max(seq), 0) as seq from audit_log',
    );
    const after = Number(rows[0]!.seq);
    t.is((await authorizeStatus()).status, 303);
    const issued = (await tokensVia(RP_REDIRECT)).refresh_token;
    t.truthy(issued, 'the client gets refresh tokens');
    docs.serve('/sector.json', JSON.stringify([RP_REDIRECT]));
    await sectors.refresh();
    // the change is audited before refresh() resolves (boot.ts awaits the append): the row is there at once
    t.deepEqual(await sectorTrail(after), ['SECTOR_IDENTIFIER_INVALID/SECTOR_IDENTIFIER_INVALID']);
    t.deepEqual(await authorizeStatus(), { status: 403, code: 'SECTOR_IDENTIFIER_INVALID' });
    t.is((await refreshAs(issued!)).error, 'unauthorized_client', 'its refreshes wait with its logins');

    docs.serve('/sector.json', 'oops', 500);
    await sectors.refresh();
    t.is((await authorizeStatus()).status, 403, 'an unreachable document keeps the last verdict');

    docs.serve('/sector.json', BOTH);
    await sectors.refresh();
    t.deepEqual(await sectorTrail(after), [
      'SECTOR_IDENTIFIER_INVALID/SECTOR_IDENTIFIER_INVALID',
      'SECTOR_IDENTIFIER_VALID/null',
    ]);
    t.is((await authorizeStatus()).status, 303);
    t.truthy((await refreshAs(issued!)).refreshToken, 'its grant was kept: refreshed again once the document is right');
  },
);
