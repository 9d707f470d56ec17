/**
 * The token's object-store lock (`hsm/pkcs11/object-store-lock.ts`) must not delay a signature when it is
 * free: the operation starts in the caller's turn, so the session pool's queue depth (what HSM shedding and
 * `/ready` read) is current at once. A microtask hop there made `saturated-hsm-answers-503-never-500` read an
 * empty queue and hang (its held session never released). Behind a waiting writer, readers queue.
 */
import test from 'ava';
import { ObjectStoreLock } from '../../hsm/pkcs11/object-store-lock.ts';

test('a free lock starts a shared or an exclusive operation synchronously', (t) => {
  const lock = new ObjectStoreLock();
  const started: string[] = [];
  void lock.shared(async () => void started.push('shared'));
  t.deepEqual(started, ['shared']);
  const other = new ObjectStoreLock();
  void other.exclusive(async () => void started.push('exclusive'));
  t.deepEqual(started, ['shared', 'exclusive']);
});

test('a writer waits for the readers, and readers after it wait for the writer', async (t) => {
  const lock = new ObjectStoreLock();
  const order: string[] = [];
  let releaseReader!: () => void;
  const reader = lock.shared(() => new Promise<void>((resolve) => (releaseReader = resolve)));
  const writer = lock.exclusive(async () => void order.push('writer'));
  const later = lock.shared(async () => void order.push('later reader'));
  await Promise.resolve();
  t.deepEqual(order, [], 'nothing runs while the first reader holds the lock and a writer waits');
  releaseReader();
  await Promise.all([reader, writer, later]);
  t.deepEqual(order, ['writer', 'later reader']);
});
