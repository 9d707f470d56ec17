/**
 * Who runs an operator CLI, as its audit records name them: the OS user's name, or `uid:<n>` where the uid has no
 * passwd entry (a container run under a random uid, where `os.userInfo()` throws). The HSM's key ceremonies and
 * the gateway's CLIs (`gateway/cli-arguments.ts` re-exports it) name their operator the same way.
 *
 * @example
 * const actor = `cli:${cliUser()}`; // 'cli:alice', or 'cli:uid:1000680000'
 */
import { userInfo } from 'node:os';

export function cliUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}
