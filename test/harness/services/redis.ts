/**
 * A real Redis server in a folder of ours, on 127.0.0.1 and a port of ours, with an append-only file.
 *
 * A port chosen free may be taken before the server binds it (by another test's server, or an outgoing
 * connection): the server then exits at once. `startRedis` says so at once (`PortInUseError`, with the log)
 * instead of waiting 30 s, and it only answers once the server that answers PONG is its own process (not
 * another Redis that holds the port). `startRedisOnFreePort` chooses another port and tries again.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { freePort, PortInUseError } from './free-port.ts';

const READY_MS = 30_000;
const SOCKET_PATH_MAX = 100;

export interface RedisHandle {
  url: string;
  port: number;
  /** The same server over its Unix socket (`unix:///…/redis.sock`), when the folder's path is short enough for one. */
  socketUrl?: string;
  /** Freezes the server (SIGSTOP): it keeps its sockets open and answers nothing, like a hung host. */
  pause(): void;
  /** Thaws a paused server (SIGCONT). */
  resume(): void;
  /** Kills the server at once (SIGKILL), as a crash would; `stop()` then returns at once. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** The process id of the Redis server (or sentinel) answering on `port`, or null when none answers. */
export function serverPid(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('INFO server\r\n'));
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve(null);
    });
    socket.on('data', (d) => {
      answer += d.toString();
      const pid = /process_id:(\d+)/.exec(answer);
      if (pid) {
        socket.destroy();
        resolve(Number(pid[1]));
      }
    });
    socket.on('error', () => resolve(null));
    socket.on('close', () => resolve(null));
  });
}

/** How long `logFile` is now: what a start appends comes after it. */
export function logLength(logFile: string): number {
  return existsSync(logFile) ? statSync(logFile).size : 0;
}

/**
 * Waits until the process `child` answers on `port` itself. Throws `PortInUseError` when it exited first
 * because the port was taken, another error (with what it logged since `logFrom`) for another reason.
 */
export async function ownServerReady(
  child: { pid?: number; exitCode: number | null; signalCode: NodeJS.Signals | null },
  port: number,
  log: { file: string; from: number },
  what: string,
): Promise<void> {
  const deadline = Date.now() + READY_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const logged = existsSync(log.file) ? readFileSync(log.file).subarray(log.from).toString('utf8') : '';
      if (/Address already in use/i.test(logged)) throw new PortInUseError(port, what, logged);
      throw new Error(
        `${what} on port ${port} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${logged}`,
      );
    }
    if ((await serverPid(port)) === child.pid) return;
    if (Date.now() > deadline) throw new Error(`${what} did not answer on port ${port} within ${READY_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts `redis-server` (more arguments in `extra`: replication, cluster or sentinel mode) and waits until its
 * own process answers on `port`.
 */
export async function startRedis(dir: string, port: number, extra: readonly string[] = []): Promise<RedisHandle> {
  mkdirSync(dir, { recursive: true });
  // a Unix socket beside the port, for a client on this host (a socket's path has at most 107 bytes)
  const socket = join(dir, 'redis.sock');
  const withSocket = Buffer.byteLength(socket) < SOCKET_PATH_MAX;
  const log = { file: `${dir}/redis.log`, from: logLength(`${dir}/redis.log`) };
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--protected-mode',
      'yes',
      '--loglevel',
      'warning',
      '--logfile',
      `${dir}/redis.log`,
      ...(withSocket ? ['--unixsocket', socket, '--unixsocketperm', '700'] : []),
      ...extra,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await ownServerReady(child, port, log, 'Redis');
  const signal = (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    ...(withSocket ? { socketUrl: `unix://${socket}` } : {}),
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async kill() {
      signal('SIGCONT');
      signal('SIGKILL');
      await exited;
    },
    async stop() {
      signal('SIGCONT');
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `startRedis` on a free port, chosen again when it was taken before the server could bind it. */
export async function startRedisOnFreePort(dir: string, extra: readonly string[] = []): Promise<RedisHandle> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startRedis(dir, await freePort(), extra);
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= 5) throw error;
    }
  }
}
