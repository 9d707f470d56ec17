/**
 * How a logout message travels to an IdP, chosen from its metadata at each logout (a refreshed document is
 * followed at once):
 *
 * | the IdP's SingleLogoutService offers | binding used | signature |
 * |--------------------------------------|--------------|-----------|
 * | HTTP-POST (with or without Redirect) | HTTP-POST    | enveloped XML signature, HSM |
 * | HTTP-Redirect only                   | HTTP-Redirect | signed query string, HSM |
 * | neither                              | none: the IdP takes no part (`SAML_LOGOUT_UNSUPPORTED`) |
 *
 * POST is preferred for the same reasons as AuthnRequests (`request-binding.ts`). Requests go to Location,
 * responses to ResponseLocation (Location when the metadata gives none).
 */
import type { FrontChannel } from '../contract.ts';
import type { Signer } from '../../hsm/signer.ts';
import type { IdpMetadata, LogoutEndpoint } from './idp-metadata.ts';
import { signedRedirectUrl } from './redirect-binding.ts';
import { signXml } from './sign-xml.ts';

export type LogoutBinding = { binding: 'post' | 'redirect'; endpoint: LogoutEndpoint };

/**
 * The binding and endpoint for a logout message to this IdP, or undefined when it offers none.
 *
 * @example
 * const chosen = chooseLogoutBinding(metadata); // { binding: 'post', endpoint: { location, responseLocation } }
 */
export function chooseLogoutBinding(metadata: IdpMetadata): LogoutBinding | undefined {
  if (metadata.slo?.post) return { binding: 'post', endpoint: metadata.slo.post };
  if (metadata.slo?.redirect) return { binding: 'redirect', endpoint: metadata.slo.redirect };
  return undefined;
}

/**
 * Signs an unsigned logout message (root carries `ID`, Issuer first child) for the chosen binding and
 * returns where the browser goes: an auto-posted form, or a redirect with a signed query string.
 *
 * @example
 * const start = await frontChannel('SAMLRequest', xml, chosen.binding, chosen.endpoint.location, relayState, signing);
 */
export async function frontChannel(
  param: 'SAMLRequest' | 'SAMLResponse',
  xml: string,
  binding: 'post' | 'redirect',
  url: string,
  relayState: string | undefined,
  signing: { signer: Signer; certificatePem: string },
): Promise<FrontChannel> {
  if (binding === 'redirect')
    return { binding: 'redirect', url: (await signedRedirectUrl(param, xml, relayState, url, signing.signer)).url };
  const signed = await signXml(xml, { ...signing, after: 'Issuer' });
  return {
    binding: 'post',
    url,
    fields: {
      [param]: Buffer.from(signed, 'utf8').toString('base64'),
      ...(relayState === undefined ? {} : { RelayState: relayState }),
    },
  };
}
