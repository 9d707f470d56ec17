/**
 * A Koa app with the gateway's error handler and the real rate-limit middleware in front of a stub
 * endpoint (200, or 400 when asked `?fail=1`; `?idp=`/`?idpRequest=`/`?identity=`/`?newDeviceFor=` take those buckets
 * as the handlers do), on
 * a private Redis this bed starts (and may stop).
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Koa from 'koa';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parseRateLimit } from '../../../gateway/config/ratelimit.ts';
import type { ClientEntry } from '../../../gateway/config/types.ts';
import { errorHandler } from '../../../gateway/http/error-handler.ts';
import type { LoadShedder } from '../../../gateway/ratelimit/load-shedder.ts';
import { rateLimit, type RateLimitDeps } from '../../../gateway/ratelimit/middleware.ts';
import { admitIdentity, admitIdp, mayGiveDevice } from '../../../gateway/ratelimit/scoped.ts';
import { DEVICE_COOKIE, knownDeviceInRequest, newDeviceCookie } from '../../../gateway/risk/device-cookie.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { startRedisOnFreePort, type RedisHandle } from '../../harness/services/redis.ts';

export const ISSUER = 'http://127.0.0.1:7000';
export const REDIRECT = 'https://rp.example/callback';

/** Every client's secret in the bed. */
export const SECRET = 'secret';

/** The key the bed's device cookies (`gw_dev`, an http deployment's) are signed with. */
const DEVICE_KEY = 'bed-device-key';

/** A `Cookie` header holding a valid device cookie for `deviceId`, as the ACS sets it once a login was verified. */
export function deviceCookie(deviceId: string): string {
  return `${DEVICE_COOKIE}=${newDeviceCookie(DEVICE_KEY, 'device-cookie-v1', deviceId).value}`;
}

export function client(id: string): ClientEntry {
  return {
    client_id: id,
    client_name: id,
    token_endpoint_auth_method: 'client_secret_basic',
    client_secret: SECRET,
    redirect_uris: [REDIRECT],
    post_logout_redirect_uris: [],
    id_token_signed_response_alg: 'ES256',
    access_token_format: 'jwt',
    access_token_signed_response_alg: 'ES256',
    default_acr_values: ['eidas2'],
    scope: 'openid',
    compatibility: { errorResponseIss: 'send' },
    grant_types: ['authorization_code'],
    backchannel_logout_session_required: true,
  };
}

export interface RateLimitBed {
  url: string;
  redis: RedisHandle;
  logs: Record<string, unknown>[];
  registry: Registry;
  /** The middleware's adaptive load shedder (ratelimit/load-shedder.ts). */
  shedder: LoadShedder;
  stopRedis(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRateLimitBed(
  rateLimitConfig: unknown,
  clientIds: string[],
  extra: Pick<RateLimitDeps, 'audit' | 'hsmSaturated'> = {},
): Promise<RateLimitBed> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-rl-'));
  let redisHandle = await startRedisOnFreePort(join(dir, 'redis'));
  const redis = createRedis({ url: redisHandle.url, keyPrefix: 'rl-test:' });
  await redis.ping();
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const registry = new Registry();
  const app = new Koa({ proxy: true }); // X-Forwarded-For names the client address, as behind the gateway's proxies
  app.silent = true;
  app.use(errorHandler(logger));
  const limits = rateLimit({
    // Redis is given 2 s before the local line decides (a loaded test machine is slower than 50 ms), unless
    // the test is about that line and says otherwise
    config: parseRateLimit({ redisTimeoutMs: 2000, ...(rateLimitConfig as object) }, clientIds),
    clients: clientIds.map(client),
    issuer: ISSUER,
    redis,
    logger,
    registry,
    workers: 1,
    identitySecret: 'bed-identity-secret',
    loginResponses: ['POST /saml/acs'],
    logoutDoors: ['GET /saml/slo', 'POST /saml/slo'],
    deviceInRequest: (ctx) => knownDeviceInRequest(ctx, DEVICE_KEY, { secure: false }),
    ...extra,
  });
  app.use(limits);
  app.use(async (ctx) => {
    // `?idp=` and `?identity=` take those buckets as the ACS and WebAuthn handlers do, `?idpRequest=` the IdP's as
    // the chooser's AuthnRequest does (ratelimit/scoped.ts)
    // (`&device=` names the browser's device, as start-upstream.ts passes the id of a valid device cookie)
    const { idp, identity, idpRequest, device, newDeviceFor } = ctx.query;
    // `?newDeviceFor=` asks, as the ACS does for a browser without a device cookie, whether that identity's login may
    // give it one (never a refusal: `{ given }`)
    if (typeof newDeviceFor === 'string') {
      ctx.body = { given: await mayGiveDevice(ctx, newDeviceFor) };
      return;
    }
    const refused =
      (typeof idp === 'string' && (await admitIdp(ctx, idp, 'response'))) ||
      (typeof idpRequest === 'string' &&
        (await admitIdp(ctx, idpRequest, 'request', typeof device === 'string' ? device : null))) ||
      (typeof identity === 'string' && (await admitIdentity(ctx, identity)));
    if (refused) {
      ctx.status = 429;
      ctx.body = { error: 'temporarily_unavailable' };
      return;
    }
    ctx.status = ctx.query.fail === '1' ? 400 : 200;
    ctx.body = { ok: ctx.status === 200 };
  });
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's handler settles each request itself
  const server: Server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    get redis() {
      return redisHandle;
    },
    logs,
    registry,
    shedder: limits.shedder,
    async stopRedis() {
      await redisHandle.stop();
      redisHandle = { ...redisHandle, stop: async () => {} };
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await limits.shedder.stop();
      redis.disconnect();
      await redisHandle.stop();
    },
  };
}

/** Sends `count` requests one after the other; the statuses in order. */
export async function statuses(count: number, send: () => Promise<Response>): Promise<Response[]> {
  const answers: Response[] = [];
  for (let i = 0; i < count; i += 1) answers.push(await send());
  return answers;
}

/** Sends `count` requests at once; how many were admitted (2xx) and refused (429). */
export async function together(
  count: number,
  send: () => Promise<Response>,
): Promise<{ admitted: number; refused: number }> {
  const answers = await Promise.all(Array.from({ length: count }, () => send()));
  return {
    admitted: answers.filter((a) => a.status === 200).length,
    refused: answers.filter((a) => a.status === 429).length,
  };
}
