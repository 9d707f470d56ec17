/**
 * GET /health — the process is up (both listeners; cheap, touches nothing).
 * GET /ready — it can serve logins: PostgreSQL, Redis and the HSM (a canary signature) all answer within
 * a short timeout; 503 with the failing parts otherwise. Served on the operations listener only (issue
 * #10 item 13).
 *
 * The HSM is also not ready while it is saturated (`hsm_capacity`: more signatures waiting than
 * `hsm.shedQueueDepth`; no canary is then added to the queue) or while a session could not be reopened
 * (`hsm_session`; the canary is what retries it). See hsm-pressure.ts.
 *
 * The readiness result is cached for READY_CACHE_MS and computed by one probe at a time, whatever the
 * number of callers: nobody may make the HSM sign at will.
 */
import type { Middleware } from 'koa';
/** What /ready asks: one cheap question to each of PostgreSQL, Redis and the HSM. */
export interface ReadinessProbes {
  pool: { query(sql: string): Promise<unknown> };
  redis: { ping(): Promise<unknown> };
  /** A canary signature in the HSM. */
  hsmReady(): Promise<boolean>;
  /** The session pool's saturation and session loss (observability/hsm-pressure.ts). */
  hsmPressure: { saturated(): boolean; sessionLost(): boolean };
}

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

/** GET /health: liveness. */
export function healthRoute(): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || ctx.path !== '/health') return next();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  };
}

/** GET /ready: readiness, cached (operations listener). */
export function readinessRoute(services: ReadinessProbes): Middleware {
  let cached: { at: number; result: Promise<Readiness> } | undefined;
  const readiness = (): Promise<Readiness> => {
    if (cached && Date.now() - cached.at < READY_CACHE_MS) return cached.result;
    cached = { at: Date.now(), result: probeAll(services) };
    return cached.result;
  };
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || ctx.path !== '/ready') return next();
    ctx.set('Cache-Control', 'no-store');
    const { ready, checks } = await readiness();
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', checks };
  };
}

async function probeAll(services: ReadinessProbes): Promise<Readiness> {
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
      if (services.hsmPressure?.saturated()) throw new Error('hsm saturated: no canary added to the queue');
      if (!(await services.hsmReady())) throw new Error('hsm');
    }),
  ]);
  if (services.hsmPressure) {
    checks.hsm_capacity = !services.hsmPressure.saturated();
    checks.hsm_session = !services.hsmPressure.sessionLost();
  }
  return { ready: Object.values(checks).every(Boolean), checks };
}
