/**
 * GET /health — the process is up. GET /ready — it can serve logins: PostgreSQL, Redis and the HSM
 * (a canary signature) all answer within a short timeout. 503 with the failing parts otherwise.
 *
 * The readiness result is cached for READY_CACHE_MS and computed by one probe at a time, whatever the
 * number of callers: a public `/ready` must not let anyone make the HSM sign at will.
 */
import type { Middleware } from 'koa';
import type { Services } from '../services.ts';

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a readiness answer is reused. */
export const READY_CACHE_MS = 2_000;

interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
}

export function healthRoutes(services: Services): Middleware {
  let cached: { at: number; result: Promise<Readiness> } | undefined;
  const readiness = (): Promise<Readiness> => {
    if (cached && Date.now() - cached.at < READY_CACHE_MS) return cached.result;
    cached = { at: Date.now(), result: probeAll(services) };
    return cached.result;
  };
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || (ctx.path !== '/health' && ctx.path !== '/ready')) return next();
    ctx.set('Cache-Control', 'no-store');
    if (ctx.path === '/health') {
      ctx.body = { status: 'ok' };
      return;
    }
    const { ready, checks } = await readiness();
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', checks };
  };
}

async function probeAll(services: Services): Promise<Readiness> {
  const checks: Record<string, boolean> = {};
  const probe = async (name: string, fn: () => Promise<unknown>) => {
    try {
      await within(2000, fn());
      checks[name] = true;
    } catch {
      checks[name] = false;
    }
  };
  await Promise.all([
    probe('postgres', () => services.pool.query('select 1')),
    probe('redis', () => services.redis.ping()),
    probe('hsm', async () => {
      if (!(await services.hsmReady())) throw new Error('hsm');
    }),
  ]);
  return { ready: Object.values(checks).every(Boolean), checks };
}
