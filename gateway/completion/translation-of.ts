/**
 * The translation point of this gateway (built once per services record) and the request context the
 * surfaces hand it: the HTTP side of a login (address, headers, the signed device cookie) read here, so that
 * `translation/` knows no HTTP.
 */
import type { Context } from 'koa';
import { accountIdOf } from '../oidc/pairwise.ts';
import { deviceCookieKeys, deviceOf, type DeviceClass } from '../risk/device-cookie.ts';
import type { Services } from '../services.ts';
import { acrOfLoa } from '../translate/acr.ts';
import type { RequestContext } from '../translation/request-context.ts';
import { TranslationPoint } from '../translation/translation-point.ts';

const built = new WeakMap<Services, TranslationPoint>();

/** The translation point over this gateway's flow, login store, fraud service and adapters. */
export function translationPoint(services: Services): TranslationPoint {
  let point = built.get(services);
  if (!point) {
    point = new TranslationPoint({
      flow: services.flow,
      logins: services.logins,
      fraud: services.fraud,
      logger: services.logger,
      idpMaxAcr: (idp) => acrOfLoa(services.adapters.get(idp).maxLoa),
      accountIdOf: (pivot) => accountIdOf(pivot, services.config.secrets.pairwiseSalt),
    });
    built.set(services, point);
  }
  return point;
}

/**
 * This request, as the translation point sees it. `issueDevice`: a device cookie of that class is issued when the
 * browser has none (a login whose IdP answer was verified); an SSO issues none (`false`), and a browser without one
 * is then assessed with no device (null; risk/device-cookie.ts `deviceOf`).
 */
export function requestContextOf(
  ctx: Context,
  services: Services,
  params: Record<string, unknown> | undefined,
  { issueDevice }: { issueDevice: DeviceClass | false },
): RequestContext {
  const device = deviceOf(ctx, deviceCookieKeys(services.config.secrets), services.config.cookies, {
    issue: issueDevice,
  });
  return {
    // the provider's own Koa context has no state of ours: the request id is on the response header
    requestId: (ctx.state.requestId as string | undefined) ?? String(ctx.res.getHeader('x-request-id') ?? ''),
    ip: ctx.ip,
    userAgent: ctx.get('user-agent'),
    acceptLanguage: ctx.get('accept-language'),
    device: { deviceId: device.deviceId, forged: device.forged },
    params,
  };
}
