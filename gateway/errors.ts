/**
 * The gateway's one error class: a stable `code` from the closed registry (`error-registry.ts`: a code that is
 * not registered does not type-check), an HTTP `status` (the registry's, or one of its `statuses`), whether the
 * public description may be shown (`expose = status < 500`), and an internal `detail` that is logged
 * but never rendered. One mapper (http/error-handler.ts) turns anything else into a generic 500.
 */
import type { ErrorCode } from './error-registry.ts';

export type { ErrorCode, GatewayErrorCode } from './error-registry.ts';

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, status: number, message: string, options: { detail?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = status;
    this.expose = status < 500;
    this.detail = options.detail;
  }
}

/** Configuration errors name the offending field by its path, e.g. `clients[1].redirect_uris[0]`. */
export class ConfigError extends GatewayError {
  readonly path: string;
  constructor(path: string, problem: string) {
    super('CONFIG_INVALID', 500, `configuration error at ${path}: ${problem}`);
    this.name = 'ConfigError';
    this.path = path;
  }
}
