/** Runs a command to completion, optionally as another user; throws with its output on failure. */
import { spawnSync } from 'node:child_process';

export function asUser(user: string | undefined, command: string, args: string[]): [string, string[]] {
  if (user === undefined) return [command, args];
  return ['runuser', ['-u', user, '--', command, ...args]];
}

export function run(command: string, args: string[], options: { user?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const [cmd, argv] = asUser(options.user, command, args);
  const result = spawnSync(cmd, argv, { encoding: 'utf8', env: options.env ?? process.env });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}
