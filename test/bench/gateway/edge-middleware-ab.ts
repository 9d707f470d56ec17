/**
 * What the gateway's edge middleware (gateway/app.ts, in front of every surface: request id + request log
 * line + HTTP metrics, request memo, security headers, error handler, origin pinning, /health, the
 * operations 404, the rate limiter with its Redis decision) costs per request, against a bare Koa app
 * answering the same stub, and the same stack without the rate limiter. In-process A/B: three servers in
 * this process, the seven requests of a full login (five of them limited) sent to each in turn, in
 * alternating blocks; median CPU per block (process.cpuUsage: client and server, the client identical in
 * every variant) over the seven requests. `bare again` is the A/A control.
 *
 *   node test/harness/with-stack.ts -- node test/bench/gateway/edge-middleware-ab.ts
 *
 * Environment: BLOCKS (per variant, default 150), LOGINS per block (default 5).
 */
import { createServer, Agent, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { pino } from 'pino';
import { parseRateLimit } from '../../../gateway/config/ratelimit.ts';
import { errorHandler } from '../../../gateway/http/error-handler.ts';
import { notServedHere } from '../../../gateway/http/not-served-here.ts';
import { trustedProxies } from '../../../gateway/http/client-address.ts';
import { pinOrigin, publicOrigin, trustRewrittenHeaders } from '../../../gateway/http/pin-origin.ts';
import { securityHeaders } from '../../../gateway/http/security-headers.ts';
import { GatewayMetrics } from '../../../gateway/observability/gateway-metrics.ts';
import { healthRoute } from '../../../gateway/observability/health.ts';
import { createLogger } from '../../../gateway/observability/logger.ts';
import { newRegistry } from '../../../gateway/observability/metrics.ts';
import { requestId } from '../../../gateway/observability/request-id.ts';
import { rateLimit } from '../../../gateway/ratelimit/middleware.ts';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';

const BLOCKS = Number(process.env.BLOCKS ?? 150);
const LOGINS = Number(process.env.LOGINS ?? 5);
const ISSUER = 'http://127.0.0.1:7000';
const UID = 'kO0TmabeehVdBCClICdZVUrOiyGRVRUW';
const LOGIN: ReadonlyArray<[string, string]> = [
  ['GET', '/auth?client_id=bench-rp&response_type=code&scope=openid'],
  ['GET', `/interaction/${UID}`],
  ['POST', `/interaction/${UID}/idp`],
  ['POST', '/saml/acs'],
  ['GET', `/interaction/${UID}/complete`],
  ['GET', `/auth/${UID}`],
  ['POST', '/token'],
];

const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
await redis.ping();
const logger = createLogger(
  'info',
  'gateway',
  pino.destination({ dest: '/dev/null', sync: false, minLength: 4096, periodicFlush: 200 }),
);
const stub: Koa.Middleware = (ctx) => {
  ctx.body = 'ok';
};

function edge(withRateLimit: boolean): Koa {
  const app = new Koa();
  trustRewrittenHeaders(app);
  app.silent = true;
  const metrics = new GatewayMetrics(newRegistry({ processMetrics: false }));
  app.use(requestId(logger, metrics));
  app.use((_ctx, next) => runWithRequestMemo(next));
  app.use(securityHeaders(false, []));
  app.use(errorHandler(logger));
  app.use(pinOrigin(publicOrigin(ISSUER), trustedProxies([]), ['/health']));
  app.use(healthRoute());
  app.use(notServedHere(['/ready', '/metrics', '/admin']));
  if (withRateLimit)
    app.use(
      rateLimit({
        // buckets far larger than this benchmark's traffic: every request admitted, each decided in Redis
        config: parseRateLimit(
          {
            global: { capacity: 1e6, perSecond: 1e5 },
            perIp: { capacity: 1e6, perSecond: 1e5 },
            failures: { capacity: 1e6, perSecond: 1e5 },
            adaptive: { enabled: false },
          },
          ['bench-rp'],
        ),
        clients: [],
        issuer: ISSUER,
        redis,
        logger,
        registry: metrics.registry,
        workers: 1,
        identitySecret: 'bench-identity-secret',
        loginResponses: ['POST /saml/acs'],
        logoutDoors: ['GET /saml/slo'],
      }),
    );
  app.use(stub);
  return app;
}
const bare = new Koa();
bare.silent = true;
bare.use(stub);

async function serve(app: Koa): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's handler settles each request itself
  const server: Server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}
const servers: Server[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const send = (port: number, method: string, path: string) =>
  new Promise<void>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, agent, headers: { host: '127.0.0.1:7000' } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path}: ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end();
  });

const variants: Array<[string, number]> = [
  ['bare Koa', await serve(bare)],
  ['edge stack', await serve(edge(true))],
  ['edge, no rate limit', await serve(edge(false))],
  ['bare Koa again', await serve(bare)],
];
const block = async (port: number) => {
  const start = process.cpuUsage();
  for (let i = 0; i < LOGINS; i++) for (const [method, path] of LOGIN) await send(port, method, path);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / LOGINS;
};
for (const [, port] of variants) for (let i = 0; i < 5; i++) await block(port); // warm-up
const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
for (let b = 0; b < BLOCKS; b++)
  for (const [name, port] of b % 2 === 0 ? variants : [...variants].reverse())
    samples.get(name)!.push(await block(port));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
console.log(
  `edge middleware, in-process A/B on Node ${process.versions.node}: ${BLOCKS} blocks × ${LOGINS} logins' 7 requests per variant (client + server CPU, ms per login's 7 requests)`,
);
console.log('$ node test/harness/with-stack.ts -- node test/bench/gateway/edge-middleware-ab.ts');
const reference = median(samples.get('bare Koa')!);
for (const [name] of variants) {
  const m = median(samples.get(name)!);
  console.log(
    `  ${name.padEnd(22)} ${m.toFixed(3)} ms (${m - reference >= 0 ? '+' : ''}${(m - reference).toFixed(3)} vs bare)`,
  );
}
agent.destroy();
for (const server of servers) server.close();
redis.disconnect();
