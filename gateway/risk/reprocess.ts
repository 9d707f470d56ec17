/**
 * Asynchronous reprocessing of stage 4 (cross-session correlation) when it missed its budget.
 *
 * - `enqueue` persists the login's signals in PostgreSQL (`risk_reprocess`): a restart loses nothing;
 * - the worker takes pending rows (`for update skip locked`: any number of instances), runs the
 *   correlation without a budget, stores the verdict, and calls `onVerdict`; a verdict at or above
 *   `revokeAbove` is a late "no": the gateway revokes the session it let through (the session revocation
 *   API: its tokens refused everywhere, its RPs told, audited) and invalidates cached decisions for that person;
 * - a row that keeps failing is marked `failed` after 5 attempts (reported, not retried forever).
 */
import type { Pool } from 'pg';
import type { StageOutput } from './pipeline.ts';
import type { RiskSignals } from './types.ts';

export class ReprocessQueue {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  async enqueue(signals: RiskSignals): Promise<void> {
    await this.#pool.query('insert into risk_reprocess (login_id, account_id, signals) values ($1, $2, $3::jsonb)', [
      signals.loginId,
      signals.accountId,
      JSON.stringify(signals),
    ]);
  }

  /**
   * Processes up to `limit` pending rows with `evaluate`; returns how many verdicts were reached.
   *
   * @example
   * await queue.processPending((s) => correlation.evaluate(s), async (signals, verdict) => { ... });
   */
  async processPending(
    evaluate: (signals: RiskSignals) => Promise<StageOutput>,
    onVerdict: (signals: RiskSignals, verdict: StageOutput) => Promise<void>,
    limit = 20,
  ): Promise<number> {
    const client = await this.#pool.connect();
    let done = 0;
    try {
      await client.query('begin');
      const { rows } = await client.query<{ id: string; signals: RiskSignals; attempts: number }>(
        `select id::text as id, signals, attempts from risk_reprocess where status = 'pending' order by id limit $1 for update skip locked`,
        [limit],
      );
      for (const row of rows) {
        try {
          const verdict = await evaluate(row.signals);
          await onVerdict(row.signals, verdict);
          await client.query(
            `update risk_reprocess set status = 'done', verdict = $2::jsonb, done_at = now(), attempts = attempts + 1 where id = $1::bigint`,
            [row.id, JSON.stringify(verdict)],
          );
          done += 1;
        } catch (error) {
          await client.query(
            `update risk_reprocess set attempts = attempts + 1, status = case when attempts + 1 >= 5 then 'failed' else 'pending' end, verdict = $2::jsonb where id = $1::bigint`,
            [row.id, JSON.stringify({ error: (error as Error).message })],
          );
        }
      }
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    return done;
  }

  /** Runs {@link processPending} every `intervalMs`. Returns a stop function. */
  start(
    intervalMs: number,
    evaluate: Parameters<ReprocessQueue['processPending']>[0],
    onVerdict: Parameters<ReprocessQueue['processPending']>[1],
    onError: (e: unknown) => void,
  ): () => Promise<void> {
    let running: Promise<unknown> | undefined;
    const timer = setInterval(() => {
      if (running) return;
      running = this.processPending(evaluate, onVerdict)
        .catch(onError)
        .finally(() => {
          running = undefined;
        });
    }, intervalMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await running;
    };
  }
}
