/**
 * oidc-provider prints its notices and warnings (`oidc-provider NOTICE: …`, `oidc-provider WARNING: …`,
 * coloured on a TTY) with `console.info` / `console.warn`: plain text in a JSON log stream. This routes
 * exactly those lines through pino (`library: "oidc-provider"`, level info / warn) and leaves every other
 * console call as it was.
 *
 * - One router per process: the most recent logger installed receives the notices; `uninstall` restores
 *   the console once the last gateway of the process has closed.
 */
import type { Logger } from 'pino';

// eslint-disable-next-line no-control-regex
const NOTICE = /^(?:\x1b\[[0-9;]*m)?oidc-provider (NOTICE|WARNING): ([\s\S]*?)(?:\x1b\[0m)?$/;

const loggers: Logger[] = [];
let original: { info: typeof console.info; warn: typeof console.warn } | undefined;

function route(fallback: (...args: unknown[]) => void) {
  return (...args: unknown[]): void => {
    const match = args.length === 1 && typeof args[0] === 'string' ? NOTICE.exec(args[0]) : null;
    const logger = loggers.at(-1);
    if (!match || !logger) {
      fallback(...args);
      return;
    }
    const line = { library: 'oidc-provider', notice: match[2] };
    if (match[1] === 'WARNING') logger.warn(line, 'library warning');
    else logger.info(line, 'library notice');
  };
}

/**
 * Sends oidc-provider's console notices to `logger` until the returned function is called.
 *
 * @example
 * const uninstall = routeLibraryNotices(logger); // at boot
 * uninstall(); // at close
 */
export function routeLibraryNotices(logger: Logger): () => void {
  if (original === undefined) {
    original = { info: console.info, warn: console.warn };
    console.info = route(original.info.bind(console));
    console.warn = route(original.warn.bind(console));
  }
  loggers.push(logger);
  return () => {
    const at = loggers.lastIndexOf(logger);
    if (at !== -1) loggers.splice(at, 1);
    if (loggers.length === 0 && original !== undefined) {
      console.info = original.info;
      console.warn = original.warn;
      original = undefined;
    }
  };
}
