/**
 * The gateway under benchmark: `node gateway/main.ts` as a child process of its own (so that /proc gives
 * its CPU alone), with the probe preloaded, optionally `--cpu-prof`, its logs to a file, and the probe's
 * counters read over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ProbeCounts, ProbeLevel } from './gateway-probe.ts';

const MAIN = fileURLToPath(new URL('../../../gateway/main.ts', import.meta.url));
const PROBE = fileURLToPath(new URL('./gateway-probe.ts', import.meta.url));

export interface GatewayProcess {
  pid: number;
  url: string;
  probe(): Promise<ProbeCounts>;
  /**
   * Zeroes the counters and sets what the probe does from now on (`cheap`: totals only, for a phase whose
   * CPU is reported; `detail`: tables by statement and key too); `timeRoutes`: also time each request (for a
   * phase at concurrency 1).
   */
  resetProbe(level: ProbeLevel, timeRoutes: boolean): Promise<void>;
  /** Starts V8's CPU profiler in the gateway; the returned function stops it and writes `file`. */
  startProfile(): Promise<(file: string) => Promise<void>>;
  /** The gateway's memory after a full garbage collection (MiB): what is live, apart from what V8 keeps. */
  memoryAfterGc(): Promise<{ rss: number; heapTotal: number; heapUsed: number; external: number }>;
  stop(): Promise<void>;
}

/** `cpuProfDir`: also run the whole process under `node --cpu-prof` (startup included). */
export async function startGatewayProcess(
  rawConfig: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  options: { configFile: string; logFile: string; cpuProfDir?: string },
): Promise<GatewayProcess> {
  writeFileSync(options.configFile, JSON.stringify(rawConfig, null, 2));
  const log = openSync(options.logFile, 'a');
  const execArgv = [
    '--expose-gc',
    '--import',
    PROBE,
    ...(options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : []),
    // V8 / Node flags to try on the gateway alone (e.g. `--single-threaded-gc`, which NODE_OPTIONS refuses)
    ...(process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
  ];
  const child: ChildProcess = fork(MAIN, ['--config', options.configFile], {
    execArgv,
    env: { ...process.env, ...env },
    stdio: ['ignore', log, log, 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    // the log's end goes into the error: the run's folder (and the log with it) is removed when the stack stops
    child.once('exit', (code) =>
      reject(
        new Error(
          `gateway exited with ${code} before it was ready; the end of its log (${options.logFile}):\n${logTail(options.logFile)}`,
        ),
      ),
    );
  });
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `gateway process exited (code ${code}, signal ${signal}; see ${options.logFile})`;
  });
  const ask = <T>(probe: string, extra: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error(exited));
      const timer = setTimeout(
        () => done(new Error(`the gateway did not answer '${probe}' within 60 s${exited ? `: ${exited}` : ''}`)),
        60_000,
      );
      const done = (error: Error | null, value?: T) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (error) reject(error);
        else resolve(value as T);
      };
      const onMessage = (message: { probe?: unknown }) => {
        if (message?.probe !== undefined) done(null, message.probe as T);
      };
      const onExit = () => done(new Error(exited ?? 'gateway process exited'));
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ probe, ...extra });
    });
  const { listen } = rawConfig as { listen: { port: number } };
  return {
    pid: child.pid!,
    url: `http://127.0.0.1:${listen.port}`,
    probe: () => ask<ProbeCounts>('read'),
    resetProbe: async (level, timeRoutes) => {
      await ask<string>('reset', { level, timeRoutes });
    },
    memoryAfterGc: () => ask('memory'),
    async startProfile() {
      await ask<string>('profile-start');
      return async (file: string) => {
        await ask<string>('profile-stop', { file });
      };
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM'); // graceful: --cpu-prof writes its profile on a normal exit
      await exited;
    },
  };
}

function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(unreadable)';
  }
}
