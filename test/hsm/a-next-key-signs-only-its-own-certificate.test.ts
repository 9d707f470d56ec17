/**
 * Review of r7-es256 (10eb75e): a `next` key may sign inside `LifecycleKeyStore.certificate()` "its own
 * certificate, and nothing else". The exemption is a per-kid flag held for the whole `await make()`:
 *
 * - anything else signed with that kid while `make()` runs passes the guard too (any caller, any bytes);
 * - two overlapping `certificate()` calls for the same next key share one flag: the first to finish clears
 *   it, and the other's signature is refused (`HSM_KEY_NOT_ACTIVE`) although it is the same certificate.
 *
 * Both tests FAIL on 10eb75e (they show the weakness); a fix that binds the exemption to the certificate
 * signature (one-shot, payload checked, or the store making the certificate itself, single-flighted per kid)
 * makes them pass.
 */
import test from 'ava';
import pg from 'pg';
import { HsmError } from '../../hsm/errors.ts';
import { LifecycleKeyStore } from '../../hsm/lifecycle/lifecycle-keystore.ts';
import { PgKeyRecords } from '../../hsm/lifecycle/pg-key-records.ts';
import { DEFAULT_KEY_SPEC, ensureKeys, type TokenKeyStore } from '../../hsm/token-keystore.ts';
import { selfSignedCertificate } from '../../hsm/x509.ts';
import { migrate } from '../../gateway/store/migrate.ts';
import { freshDatabase, freshToken } from '../helpers/services.ts';
import { openTestStore } from './open-store.ts';

const token = freshToken();
let pool: pg.Pool;
let tokens: TokenKeyStore;

test.before(async () => {
  pool = new pg.Pool({ connectionString: await freshDatabase() });
  await migrate(pool);
  tokens = await openTestStore(token);
  await ensureKeys(tokens, DEFAULT_KEY_SPEC);
});
test.after.always(async () => {
  await tokens?.close();
  await pool?.end();
});

const open = () =>
  LifecycleKeyStore.open({
    tokens,
    records: new PgKeyRecords(pool),
    actor: 'test:review',
    now: () => new Date(),
    times: { leadTimeMs: 60_000, retentionMs: 3_600_000, signGraceMs: 5_000 },
  });

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return 'signed';
  } catch (error) {
    if (error instanceof HsmError) return error.code;
    throw error;
  }
}

async function nextSamlSigner(keys: LifecycleKeyStore) {
  const record = await keys.generate('saml', 'ES256');
  const signer = keys.signersIn('saml', 'next').find((s) => s.kid === record.kid);
  if (!signer) throw new Error('no next signer');
  return signer;
}

test.serial('while a next key certifies itself, it signs nothing else', async (t) => {
  const keys = await open();
  const signer = await nextSamlSigner(keys);
  t.is(await codeOf(signer.sign(new TextEncoder().encode('outside'))), 'HSM_KEY_NOT_ACTIVE');

  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const making = new Promise<void>((resolve) => (started = resolve));
  const certifying = keys.certificate(signer.kid, async () => {
    started();
    await gate; // an HSM signature takes time: the window stays open while the certificate is made
    return selfSignedCertificate(signer, { subject: 'CN=review', days: 1 });
  });
  await making;
  // another caller (a request handler, not make()) signs with the same kid inside the window
  const duringMake = await codeOf(signer.sign(new TextEncoder().encode('an AuthnRequest, not a certificate')));
  release();
  t.truthy(await certifying, 'the certificate itself is made');
  t.is(duringMake, 'HSM_KEY_NOT_ACTIVE', 'only the certificate may be signed by a next key');
});

test.serial('two overlapping certificate() calls for one next key both get its certificate', async (t) => {
  const keys = await open();
  const signer = await nextSamlSigner(keys);
  const first = keys.certificate(signer.kid, () => selfSignedCertificate(signer, { subject: 'CN=a', days: 1 }));
  const second = keys.certificate(signer.kid, async () => {
    await first.catch(() => undefined); // signs after the first call has returned
    return selfSignedCertificate(signer, { subject: 'CN=b', days: 1 });
  });
  const [a, b] = await Promise.allSettled([first, second]);
  t.is(a.status, 'fulfilled');
  t.is(b.status, 'fulfilled', b.status === 'rejected' ? String((b.reason as HsmError).code) : '');
  if (a.status === 'fulfilled' && b.status === 'fulfilled') t.is(a.value, b.value, 'first writer wins');
});
