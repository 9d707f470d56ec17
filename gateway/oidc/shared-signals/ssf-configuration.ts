/**
 * `GET /.well-known/ssf-configuration`: the transmitter metadata of the Shared Signals Framework 1.0 (§7.1),
 * so an RP's receiver can find how to verify our SETs.
 *
 * - `spec_version` `1_0`, `issuer` (= the `iss` of every SET), `jwks_uri` (the gateway's `/jwks`: the keys
 *   SETs are signed with), `delivery_methods_supported` = push only (`urn:ietf:rfc:8935`);
 * - `events_supported`: the CAEP event types this transmitter sends (an extension here: streams are not
 *   managed over HTTP, a receiver is registered in the RP's client configuration, `clients[].ssf`, so there
 *   is no `configuration_endpoint` to read a stream's `events_supported` from);
 * - `default_subjects` `NONE`: nothing is sent about sessions of an RP that did not register a receiver.
 *
 * Served whether or not a client registered a receiver (the gateway is a transmitter either way).
 */
import type { Middleware } from 'koa';
import { SSF_EVENTS } from '../../config/ssf.ts';

export const SSF_CONFIGURATION_PATH = '/.well-known/ssf-configuration';

/**
 * @example
 * app.use(ssfConfigurationRoute('https://gateway.example')); // before the provider
 */
export function ssfConfigurationRoute(issuer: string): Middleware {
  const body = JSON.stringify({
    spec_version: '1_0',
    issuer,
    jwks_uri: `${issuer}/jwks`,
    delivery_methods_supported: ['urn:ietf:rfc:8935'],
    events_supported: [...SSF_EVENTS],
    default_subjects: 'NONE',
  });
  return async (ctx, next) => {
    if (ctx.path !== SSF_CONFIGURATION_PATH) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      return;
    }
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = body;
  };
}
