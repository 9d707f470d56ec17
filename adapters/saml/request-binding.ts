/**
 * Which binding carries our AuthnRequest to an IdP, chosen from its metadata at each login (a refreshed
 * metadata document is followed at once), with a per-IdP override:
 *
 * | setting    | the IdP's SingleSignOnService offers | binding used |
 * |------------|--------------------------------------|--------------|
 * | `metadata` | HTTP-POST (with or without Redirect)  | HTTP-POST    |
 * | `metadata` | HTTP-Redirect only                    | HTTP-Redirect |
 * | `post`     | HTTP-POST / not                       | HTTP-POST / `SAML_BINDING_UNAVAILABLE` |
 * | `redirect` | HTTP-Redirect / not                   | HTTP-Redirect / `SAML_BINDING_UNAVAILABLE` |
 *
 * POST is preferred when both are offered: the request keeps its enveloped XML signature and has no URL
 * length limit. eIDAS nodes accept only `metadata` (POST unless their metadata offers Redirect alone), see
 * `eidas/config.ts`.
 */
import { samlError } from './errors.ts';
import type { IdpMetadata } from './idp-metadata.ts';

/** The per-IdP setting. */
export type RequestBindingSetting = 'metadata' | 'post' | 'redirect';
export const REQUEST_BINDING_SETTINGS: readonly RequestBindingSetting[] = ['metadata', 'post', 'redirect'];

/**
 * The binding and endpoint for one AuthnRequest.
 *
 * @example
 * const { binding, url } = chooseRequestBinding(metadata.sso, 'metadata', 'idp-a'); // { binding: 'post', url }
 */
export function chooseRequestBinding(
  sso: IdpMetadata['sso'],
  setting: RequestBindingSetting,
  idpId: string,
  loginId?: string,
): { binding: 'post' | 'redirect'; url: string } {
  const missing = (what: string) =>
    samlError('SAML_BINDING_UNAVAILABLE', {
      ...(loginId === undefined ? {} : { loginId }),
      detail: `${idpId}: metadata has no ${what} SingleSignOnService`,
    });
  switch (setting) {
    case 'metadata':
      if (sso.post) return { binding: 'post', url: sso.post };
      if (sso.redirect) return { binding: 'redirect', url: sso.redirect };
      throw missing('HTTP-POST or HTTP-Redirect');
    case 'post':
      if (sso.post) return { binding: 'post', url: sso.post };
      throw missing('HTTP-POST');
    case 'redirect':
      if (sso.redirect) return { binding: 'redirect', url: sso.redirect };
      throw missing('HTTP-Redirect');
    default: {
      const unknown: never = setting;
      throw samlError('SAML_CONFIG_INVALID', { detail: `${idpId}: unknown request binding ${String(unknown)}` });
    }
  }
}
