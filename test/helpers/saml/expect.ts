/**
 * ava macros for the SAML adapter tests: a built message is refused with a given code (and therefore
 * no identity is returned), and whether the error names the pending login.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { AdapterError } from '../../../adapters/contract.ts';
import type { AdapterErrorCode } from '../../../adapters/errors/registry.ts';
import type { ResponseFields } from './response-builder.ts';
import type { SamlTestBed } from './test-bed.ts';

export type Build = (f: ResponseFields, bed: SamlTestBed) => string | Promise<string>;

/** Asserts that `promise` rejects with an `AdapterError` of `code`; returns the error. */
export async function refused(
  t: ExecutionContext,
  promise: Promise<unknown>,
  code: AdapterErrorCode,
): Promise<AdapterError> {
  const error = await t.throwsAsync(promise, { instanceOf: AdapterError });
  t.is(error?.code, code, error?.detail);
  return error!;
}

/**
 * `test(name, refuses, getBed, build, code, { loginKnown })`: starts a login, builds the message from
 * the baseline fields, posts it, expects `code`. `loginKnown` says whether the error must carry the
 * loginId (true once the signed InResponseTo is bound) or must not.
 */
export const refuses = test.macro(
  async (t, getBed: () => SamlTestBed, build: Build, code: AdapterErrorCode, options: { loginKnown: boolean }) => {
    const bed = getBed();
    const { requestId, loginId } = await bed.start();
    const xml = await build(bed.fields(requestId), bed);
    const error = await refused(t, bed.finish(xml), code);
    t.is(error.loginId, options.loginKnown ? loginId : undefined);
  },
);
