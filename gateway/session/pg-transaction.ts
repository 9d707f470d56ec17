/** One PostgreSQL transaction on a client of the pool: committed when `work` resolves, rolled back when it throws. */
import type { Pool, PoolClient } from 'pg';

export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // a client whose rollback failed is broken (its connection lost, or still in the transaction): it is destroyed,
  // never handed back to the pool for the next caller
  let broken: Error | undefined;
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    broken = await client.query('rollback').then(
      () => undefined,
      (rollbackError: unknown) => (rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))),
    );
    throw error;
  } finally {
    client.release(broken);
  }
}
