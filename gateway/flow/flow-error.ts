/**
 * Errors of the login state machine, with stable codes.
 *
 * - `FLOW_NOT_FOUND`: no such login (never started, or its record is gone);
 * - `FLOW_EXPIRED`: the login's time in its current state is up (the sweeper will move it to FAILED/DENIED);
 * - `FLOW_ILLEGAL_TRANSITION`: the table does not allow this transition, the login already exists (start), or
 *   another transition of the same login is in progress or won the race (`detail` says which);
 * - `FLOW_UNKNOWN_STATE`: a state name not in the table;
 * - `FLOW_STORE_UNAVAILABLE`: Redis did not answer;
 * - `FLOW_TIMEOUT`: not thrown; the error code the sweeper records on a timed-out login.
 */
import { GATEWAY_ERRORS } from '../error-registry.ts';
import { GatewayError } from '../errors.ts';

export type FlowErrorCode =
  | 'FLOW_NOT_FOUND'
  | 'FLOW_EXPIRED'
  | 'FLOW_ILLEGAL_TRANSITION'
  | 'FLOW_UNKNOWN_STATE'
  | 'FLOW_STORE_UNAVAILABLE'
  | 'FLOW_TIMEOUT';

/** A `GatewayError` (status from the registry), so the gateway's one error mapper renders its code (exposed below 500) and logs its detail. */
export class FlowError extends GatewayError {
  declare readonly code: FlowErrorCode;
  /** The login concerned, when known. */
  readonly loginId: string | undefined;
  /** Why Redis refused the claim, when it did: `BUSY` (another transition in progress), `CONFLICT`, `EXISTS`… */
  readonly refusal: string | undefined;
  constructor(
    code: FlowErrorCode,
    message: string,
    options: { loginId?: string; detail?: string; cause?: unknown; refusal?: string } = {},
  ) {
    super(code, GATEWAY_ERRORS[code].status, message, {
      ...(options.detail === undefined ? {} : { detail: options.detail }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.name = 'FlowError';
    this.loginId = options.loginId;
    this.refusal = options.refusal;
  }
}
