/**
 * The statements a real `pg.Pool` is asked to run, by text, while a callback runs: the pool is the gateway's own
 * (real PostgreSQL); only its `query` method is wrapped to note each statement's text before passing it on.
 */
import type { Pool } from 'pg';

/**
 * Runs `during` and answers the texts of the statements `pool.query` was asked for meanwhile, in order.
 *
 * @example
 * const texts = await statementsDuring(gateway.services.pool, () => loginJourney(url, options));
 * t.is(texts.filter((s) => s.includes('review_queue')).length, 0);
 */
export async function statementsDuring(pool: Pool, during: () => Promise<unknown>): Promise<string[]> {
  const texts: string[] = [];
  const original = pool.query;
  const wrapped = function (this: Pool, ...args: unknown[]) {
    const first = args[0];
    texts.push(typeof first === 'string' ? first : String((first as { text?: string }).text));
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
  pool.query = wrapped as unknown as Pool['query'];
  try {
    await during();
  } finally {
    pool.query = original;
  }
  return texts;
}
