/**
 * An end Redis did not take (a logout while Redis times out) is written down in PostgreSQL beside the process's
 * memory (`session_hot_pending`, `hot-ends-ledger.ts`), and made by any process's sweep when the one that kept it
 * stopped first. Before, a restart during a Redis outage forgot it: Redis held the logged-out session's
 * access token as current, and userinfo answered with it until the token expired. Real PostgreSQL, Redis and HSM;
 * the Redis outage is the hot tier's end answered "unavailable" in the first process only.
 */
import test from 'ava';
import { logIn, logOutAtTheRp, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

const pendingRows = async () =>
  (
    await bed.gateway.services.pool.query<{ n: number }>(
      "select count(*)::int as n from session_hot_pending where kind = 'end'",
    )
  ).rows[0]!.n;

test.serial(
  "a logout Redis missed is made by a sweep once its process is gone: the session's token is refused",
  async (t) => {
    const session = await logIn(bed);
    t.is((await userinfo(bed.url, session.accessToken)).status, 200);
    // Redis takes no end from this process (a timeout each time), its retries included
    const { store } = bed.gateway.services.sessions;
    store.hot.delete = () => Promise.resolve('unavailable' as const);
    const logout = await logOutAtTheRp(bed, session);
    t.true(logout.atPlru, `the logout went through: ${logout.url}`);
    t.true((await pendingRows()) > 0, 'the ends Redis missed are written down');
    t.is((await userinfo(bed.url, session.accessToken)).status, 200, 'Redis still holds the token as current');

    // the process stops with its queue; the next one boots on the same PostgreSQL and Redis, and its sweep (every
    // minute, the first at boot, of rows a minute old: here at once, whatever their age) makes what was written down
    await bed.restartGateway(() => undefined);
    t.true((await bed.gateway.services.sessions.sweepHotEnds(0)) > 0, 'the sweep made them');
    t.is((await userinfo(bed.url, session.accessToken)).status, 401, 'the ended token is refused');
    t.is(await pendingRows(), 0, 'made, and forgotten in PostgreSQL');
  },
);
