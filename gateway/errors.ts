/**
 * The gateway's one error class: a stable `code` from a closed list, an HTTP `status`, whether the
 * public description may be shown (`expose = status < 500`), and an internal `detail` that is logged
 * but never rendered. One mapper (http/error-handler.ts) turns anything else into a generic 500.
 */
export type GatewayErrorCode =
  | 'CONFIG_INVALID'
  | 'REQUEST_TOO_LARGE'
  | 'REQUEST_INVALID'
  | 'INTERACTION_NOT_FOUND'
  | 'INTERACTION_INVALID'
  | 'IDP_UNKNOWN'
  | 'IDP_UNAVAILABLE'
  | 'RELAYSTATE_INVALID'
  | 'IDENTITY_INVALID'
  | 'LOA_UNKNOWN'
  | 'ACR_UNKNOWN'
  | 'LOA_INSUFFICIENT'
  | 'POLICY_DENIED'
  | 'LOGIN_STATE_INVALID'
  | 'SERVICE_UNAVAILABLE'
  | 'HOST_NOT_CONFIGURED'
  | 'STEP_UP_PENDING'
  | 'UPSTREAM_AUDIENCE_EXCLUDES_RP'
  | 'SECTOR_IDENTIFIER_INVALID'
  | 'SECTOR_IDENTIFIER_UNREACHABLE'
  | 'INTERNAL';

export class GatewayError extends Error {
  readonly code: GatewayErrorCode | string;
  readonly status: number;
  readonly expose: boolean;
  readonly detail: string | undefined;

  constructor(code: GatewayErrorCode | string, status: number, message: string, options: { detail?: string; cause?: unknown } = {}) {
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
