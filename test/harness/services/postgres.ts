/**
 * A real PostgreSQL server in a folder of ours, on 127.0.0.1 and a port of ours.
 * PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` system user.
 */
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { run } from './run-command.ts';
import { freePort, PortInUseError, waitFor } from './free-port.ts';

export interface PostgresHandle {
  url: string;
  port: number;
  /** The folder of the server's Unix socket: `?host=` it to any of its URLs to connect through the socket. */
  sockets: string;
  stop(): Promise<void>;
}

export function pgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const candidate = join(root, v, 'bin', name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`PostgreSQL ${name} not found under ${root}: install the postgresql package (make provision)`);
}

/** Creates the cluster's folder and data directory (initdb) unless they exist; answers the user it runs as. */
function initPostgres(dir: string): { user: string | undefined; data: string; sockets: string } {
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
  if (!existsSync(join(data, 'PG_VERSION'))) {
    run(pgBin('initdb'), ['-D', data, '-U', 'gateway', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'], {
      user,
    });
    writeFileSync(join(dir, 'initialised'), new Date().toISOString());
  }
  return { user, data, sockets };
}

/** `extraOptions`: more `-c name=value` server settings (a test's TLS, say), appended to the harness's own. */
export async function startPostgres(dir: string, port: number, extraOptions = ''): Promise<PostgresHandle> {
  const { user, data, sockets } = initPostgres(dir);
  // Measurement only: HARNESS_PG_STATEMENTS=1 loads pg_stat_statements (planning time tracked too) so that a
  // benchmark can read where PostgreSQL's CPU goes per statement. Nothing else of the server changes.
  const statements =
    process.env.HARNESS_PG_STATEMENTS === '1'
      ? ' -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on'
      : '';
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${sockets} -c max_connections=200 -c fsync=on${statements}${extraOptions ? ` ${extraOptions}` : ''}`;
  const logFile = join(dir, 'postgres.log');
  const logged = existsSync(logFile) ? statSync(logFile).size : 0;
  try {
    run(pgBin('pg_ctl'), ['-D', data, '-o', options, '-l', logFile, '-w', '-t', '60', 'start'], { user });
  } catch (error) {
    // the log is appended to by every start: only this one's lines say why this one failed
    const log = existsSync(logFile) ? readFileSync(logFile).subarray(logged).toString('utf8') : '';
    if (/could not bind .*Address already in use/i.test(log)) throw new PortInUseError(port, 'PostgreSQL', log);
    throw error;
  }
  const url = `postgres://gateway@127.0.0.1:${port}/postgres`;
  await waitFor(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.end();
    return true;
  }, 'PostgreSQL');
  return {
    url,
    port,
    sockets,
    async stop() {
      run(pgBin('pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'], { user });
    },
  };
}

/**
 * `startPostgres` on a free port, chosen once the data directory exists (initdb takes seconds: the port is
 * not chosen before it) and chosen again when it was taken before PostgreSQL could bind it.
 */
export async function startPostgresOnFreePort(dir: string, extraOptions = ''): Promise<PostgresHandle> {
  initPostgres(dir);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startPostgres(dir, await freePort(), extraOptions);
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= 5) throw error;
    }
  }
}

/**
 * Creates a fresh database and returns its URL (one per test file keeps tests independent). With a
 * `template`, the new database is a copy of it (schema already migrated): copying is far cheaper than
 * running every migration again for each test file.
 */
export async function createDatabase(adminUrl: string, name: string, template?: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const from = template === undefined ? '' : ` TEMPLATE "${template.replace(/"/g, '')}" STRATEGY FILE_COPY`;
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"${from}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
