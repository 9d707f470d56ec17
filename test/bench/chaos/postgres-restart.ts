/**
 * Fault: the PostgreSQL primary stopped (fast shutdown) and started again 2 s later, with its streaming
 * replica present. Meanwhile the bench watches what the replica does: whether it stays a hot standby
 * (`pg_is_in_recovery()`), its WAL receiver (`pg_stat_wal_receiver.status`: streaming, then none while the
 * primary is gone, then streaming again) and how long after the primary is back it streams again; and what
 * the gateway does with it: each process's route for the reads that may lag
 * (`gateway_db_lagging_reads_on_replica`), and the review queue listing (a read that may lag) answered by
 * each process while the primary is down.
 */
import pg from 'pg';
import { startPostgres } from '../../harness/services/postgres.ts';
import type { ChaosBed, Fault } from './bed.ts';
import { gauge, reviewListing, sampleEvery } from './probes.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ReplicaSample {
  at: number;
  inRecovery: boolean | null;
  receiver: string;
  onReplica: number[];
  listings: number[];
}

async function replicaState(bed: ChaosBed): Promise<Pick<ReplicaSample, 'inRecovery' | 'receiver'>> {
  const client = new pg.Client({ connectionString: bed.replica.urlOf('postgres'), connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ r: boolean; s: string | null }>(
      'select pg_is_in_recovery() as r, (select status from pg_stat_wal_receiver limit 1) as s',
    );
    return { inRecovery: rows[0]!.r, receiver: rows[0]!.s ?? 'none' };
  } catch {
    return { inRecovery: null, receiver: 'unreachable' };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function postgresRestart(): Fault {
  let stopSampling: (() => Promise<ReplicaSample[]>) | undefined;
  let down = 0;
  let up = 0;
  return {
    what: 'PostgreSQL primary stopped (fast shutdown) and started again 2 s later; its streaming replica stays up',
    recoveryFrom: 'start',
    async inject(bed) {
      stopSampling = sampleEvery(250, async () => ({
        at: Date.now(),
        ...(await replicaState(bed)),
        onReplica: await Promise.all(bed.processes.map((p) => gauge(bed, p, 'gateway_db_lagging_reads_on_replica'))),
        listings: await Promise.all(bed.processes.map((p) => reviewListing(bed, p))),
      }));
      await sleep(1_000); // a few samples with the primary up
      down = Date.now();
      await bed.postgres.stop();
      await sleep(2_000);
      bed.postgres = await startPostgres(bed.pgDir, bed.postgres.port);
      up = Date.now();
      return async () => undefined;
    },
    async report() {
      const samples = (await stopSampling?.()) ?? [];
      const during = samples.filter((s) => s.at >= down && s.at < up);
      const listings = during.flatMap((s) => s.listings);
      const routed = during.flatMap((s) => s.onReplica);
      const streamingAgain = samples.find((s) => s.at >= up && s.receiver === 'streaming');
      const receivers = [...new Set(samples.map((s) => s.receiver))].join(' → ');
      const notes = [
        `replica while the primary was down (${((up - down) / 1000).toFixed(1)} s, ${during.length} samples): ` +
          `hot standby ${during.every((s) => s.inRecovery === true) ? 'throughout' : 'NOT throughout'}; WAL receiver ${receivers}; ` +
          `streaming again ${streamingAgain ? `${((streamingAgain.at - up) / 1000).toFixed(1)} s after the primary was back` : 'not seen in the phase'}`,
        `reads that may lag while the primary was down: on the replica in ${routed.filter((v) => v === 1).length} of ${routed.length} process samples; ` +
          `review listing answered ${listings.filter((s) => s === 200).length} of ${listings.length} (others: ${
            listings
              .filter((s) => s !== 200)
              .map(String)
              .join(', ') || 'none'
          })`,
      ];
      return { notes, took: during.length > 0 };
    },
  };
}
