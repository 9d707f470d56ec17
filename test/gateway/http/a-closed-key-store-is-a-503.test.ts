/**
 * The key store closed under a request (a drain: `HSM_CLOSED` while the process shuts down) is the service
 * going away, not a fault: 503 `SERVICE_UNAVAILABLE` (it was a 500 `INTERNAL`), also when an adapter wraps it
 * (`SAML_SIGNING_FAILED` over it) on the login paths that look under the adapter's code.
 */
import test from 'ava';
import { HsmError } from '../../../hsm/errors.ts';
import { samlError } from '../../../adapters/saml/errors.ts';
import { mapError } from '../../../gateway/http/error-handler.ts';
import { unavailableCodeWithin } from '../../../gateway/interaction/unavailable-mid-login.ts';

test('HSM_CLOSED is a 503 SERVICE_UNAVAILABLE, under an adapter code too; HSM_BUSY stays HSM_BUSY', (t) => {
  t.like(mapError(new HsmError('HSM_CLOSED', 'key store closed')), { code: 'SERVICE_UNAVAILABLE', status: 503 });
  const wrapped = samlError('SAML_SIGNING_FAILED', { cause: new HsmError('HSM_CLOSED', 'key store closed') });
  t.is(mapError(wrapped).status, 500, 'the adapter code itself is still a fault');
  t.is(unavailableCodeWithin(wrapped), 'SERVICE_UNAVAILABLE');
  t.is(
    unavailableCodeWithin(samlError('SAML_SIGNING_FAILED', { cause: new HsmError('HSM_BUSY', 'busy') })),
    'HSM_BUSY',
  );
  t.is(unavailableCodeWithin(samlError('SAML_SIGNING_FAILED', { cause: new Error('CKR_DEVICE_ERROR') })), undefined);
});
