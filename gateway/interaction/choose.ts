/** POST /interaction/:uid/idp — the person chose an IdP on the chooser page. */
import type { Context } from 'koa';
import { GatewayError } from '../errors.ts';
import { readForm } from '../http/read-form.ts';
import type { Services } from '../services.ts';
import { rememberIdp } from './chooser-memory.ts';
import { assertSelectable } from './chooser.ts';
import { startUpstream } from './start-upstream.ts';

export async function chooseIdp(ctx: Context, services: Services, uid: string): Promise<void> {
  services.logins.prefetch(uid); // with the interaction's read: one round trip (used once the uid is checked)
  const details = await services.holder.provider.interactionDetails(ctx.req, ctx.res);
  // `sso` too: a request on a session that could stand for it at /auth and no longer can at the interaction (its
  // upstream session ran out between the two) is shown the chooser like a first login (show.ts)
  if (details.uid !== uid || (details.prompt.name !== 'login' && details.prompt.name !== 'sso'))
    throw new GatewayError('INTERACTION_INVALID', 400, 'interaction mismatch');
  const form = await readForm(ctx, 4096);
  const login = await services.logins.load(uid);
  if (!login)
    throw new GatewayError('LOGIN_STATE_INVALID', 400, 'this sign-in has expired; start again from the service');
  if (!form.idp) throw new GatewayError('IDP_UNKNOWN', 400, 'no identity provider chosen');
  assertSelectable(services, form.idp, login.clientId);
  await startUpstream(ctx, services, login, form.idp);
  // remembered only once the login went upstream from this browser: a request refused there (another browser's
  // planted interaction cookie, a rate limit) leaves the person's remembered IdP as it was
  rememberIdp(ctx, form.idp, services.config.cookies.secure);
}
