/**
 * GET /health — the process is up. GET /ready — it can serve logins: PostgreSQL, Redis and the HSM
 * (a canary signature) all answer within a short timeout. 503 with the failing parts otherwise.
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

export function healthRoutes(services: Services): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || (ctx.path !== '/health' && ctx.path !== '/ready')) return next();
    ctx.set('Cache-Control', 'no-store');
    if (ctx.path === '/health') {
      ctx.body = { status: 'ok' };
      return;
    }
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
    const ready = Object.values(checks).every(Boolean);
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', checks };
  };
}
