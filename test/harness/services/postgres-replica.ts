/**
 * A real PostgreSQL streaming replica of a primary started by `postgres.ts`: a base backup taken with
 * `pg_basebackup -R` (which writes `standby.signal` and `primary_conninfo`), started as a second server on
 * a port of ours, read-only (hot standby). `pauseReplay()` / `resumeReplay()` hold and release WAL replay
 * (`pg_wal_replay_pause()`), which is real replication lag as the gateway sees it.
 */
import { chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, PortInUseError, waitFor } from './free-port.ts';
import { pgBin } from './postgres.ts';
import { run } from './run-command.ts';

export interface PostgresReplicaHandle {
  /** The URL of `database` on the replica. */
  urlOf(database: string): string;
  port: number;
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the replica on `port`, or, without one, on a free port chosen once the base backup is taken (it
 * takes seconds) and chosen again if it was taken before the replica could bind it.
 */
export async function startPostgresReplica(
  dir: string,
  primaryPort: number,
  port?: number,
): Promise<PostgresReplicaHandle> {
  const user = process.getuid?.() === 0 ? 'postgres' : undefined;
  const data = join(dir, 'data');
  const sockets = join(dir, 'sockets');
  mkdirSync(sockets, { recursive: true });
  if (user) {
    const uid = Number(run('id', ['-u', user]).trim());
    const gid = Number(run('id', ['-g', user]).trim());
    chownSync(dir, uid, gid);
    chownSync(sockets, uid, gid);
  }
  run(
    pgBin('pg_basebackup'),
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(primaryPort),
      '-U',
      'gateway',
      '-D',
      data,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
      '--no-sync',
    ],
    { user },
  );
  const logFile = join(dir, 'postgres.log');
  const start = (on: number) => {
    const options = `-p ${on} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${sockets} -c hot_standby=on -c max_connections=200`;
    const logged = existsSync(logFile) ? statSync(logFile).size : 0;
    try {
      run(pgBin('pg_ctl'), ['-D', data, '-o', options, '-l', logFile, '-w', '-t', '60', 'start'], { user });
    } catch (error) {
      const log = existsSync(logFile) ? readFileSync(logFile).subarray(logged).toString('utf8') : '';
      if (/could not bind .*Address already in use/i.test(log)) throw new PortInUseError(on, 'PostgreSQL replica', log);
      throw error;
    }
    return on;
  };
  const onFreePort = async (): Promise<number> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return start(await freePort());
      } catch (error) {
        if (!(error instanceof PortInUseError) || attempt >= 5) throw error;
      }
    }
  };
  const bound = port === undefined ? await onFreePort() : start(port);
  const urlOf = (database: string) => `postgres://gateway@127.0.0.1:${bound}/${database}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: urlOf('postgres') });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await waitFor(async () => (await admin('select pg_is_in_recovery() as r')).rows[0].r === true, 'PostgreSQL replica');
  return {
    urlOf,
    port: bound,
    async pauseReplay() {
      await admin('select pg_wal_replay_pause()');
      // the request is taken at the next record: wait until replay has really stopped
      await waitFor(
        async () => (await admin('select pg_get_wal_replay_pause_state() as s')).rows[0].s === 'paused',
        'WAL replay to pause',
      );
    },
    async resumeReplay() {
      await admin('select pg_wal_replay_resume()');
    },
    async stop() {
      run(pgBin('pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'], { user });
    },
  };
}
