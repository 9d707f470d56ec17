/** A real Redis server in a folder of ours, on 127.0.0.1 and a port of ours, with an append-only file. */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { waitFor } from './free-port.ts';

export interface RedisHandle {
  url: string;
  port: number;
  /** Freezes the server (SIGSTOP): it keeps its sockets open and answers nothing, like a hung host. */
  pause(): void;
  /** Thaws a paused server (SIGCONT). */
  resume(): void;
  /** Kills the server at once (SIGKILL), as a crash would; `stop()` then returns at once. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    socket.on('error', () => resolve(false));
  });
}

/** Starts `redis-server` (more arguments in `extra`: replication, cluster or sentinel mode) and waits for PONG. */
export async function startRedis(dir: string, port: number, extra: readonly string[] = []): Promise<RedisHandle> {
  mkdirSync(dir, { recursive: true });
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
      ...extra,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(() => ping(port), 'Redis');
  const signal = (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
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
