/**
 * A back-channel logout the RP accepted is not sent again when its audit record cannot be written (the audit log
 * closed under it, `AUDIT_UNAVAILABLE`): the audit failure is the delivery's failure to report, not the RP's. Before,
 * the record was appended inside the attempts' loop, so a failed append counted as a failed attempt and the RP got
 * the same logout token up to three times. The RP is a stand-in for the remote party (it counts what it receives);
 * the audit failure is injected through the audit log's one method the delivery uses.
 */
import test from 'ava';
import type Provider from 'oidc-provider';
import { Registry } from 'prom-client';
import { ATTEMPTS, BackchannelLogout } from '../../../gateway/oidc/backchannel-logout.ts';

function anRp(answers: (n: number) => Promise<void>) {
  const received: string[] = [];
  class Client {
    clientId = 'rp-a';
    async backchannelLogout(_sub: string, sid: string): Promise<void> {
      received.push(sid);
      await answers(received.length);
    }
  }
  return { Client, received };
}

test('a logout the RP accepted is sent once, even when its audit record fails', async (t) => {
  const rp = anRp(async () => undefined);
  const audited: string[] = [];
  const delivery = new BackchannelLogout({
    audit: {
      append: async (record) => {
        audited.push(record.to);
        throw Object.assign(new Error('the audit log is closed'), { code: 'AUDIT_UNAVAILABLE' });
      },
    },
    registry: new Registry(),
    sleep: async () => undefined,
  });
  delivery.install({ Client: rp.Client } as unknown as Provider);

  const error = await t.throwsAsync(new rp.Client().backchannelLogout('sub-1', 'sid-1'));
  t.is((error as Error & { code?: string }).code, 'AUDIT_UNAVAILABLE', "the audit's failure is reported as such");
  t.deepEqual(rp.received, ['sid-1'], 'the RP received the logout token once');
  t.deepEqual(audited, ['BACKCHANNEL_LOGOUT_DELIVERED'], 'one record was attempted: the delivery');
});

test('a logout the RP refuses is tried again, and its failure audited once', async (t) => {
  const rp = anRp(async () => {
    throw new Error('expected 200 OK, got: 503 Service Unavailable');
  });
  const audited: { to: string; errorCode?: string }[] = [];
  const delivery = new BackchannelLogout({
    audit: { append: async (record) => void audited.push({ to: record.to, errorCode: record.errorCode }) },
    registry: new Registry(),
    sleep: async () => undefined,
  });
  delivery.install({ Client: rp.Client } as unknown as Provider);

  await t.throwsAsync(new rp.Client().backchannelLogout('sub-1', 'sid-1'), { message: /failed after 3 attempts/ });
  t.is(rp.received.length, ATTEMPTS);
  t.deepEqual(audited, [{ to: 'BACKCHANNEL_LOGOUT_FAILED', errorCode: 'BACKCHANNEL_LOGOUT_FAILED' }]);
});
