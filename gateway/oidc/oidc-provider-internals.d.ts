/**
 * The one internal module of oidc-provider the gateway reads (pinned at 9.13.3, package.json): its per-provider
 * store, where the registered response modes live (`authorization-error-redirect.ts`). oidc-provider has no
 * `exports` map, so the path resolves; it ships no types for it.
 */
declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  import type { KoaContextWithOIDC, Provider } from 'oidc-provider';

  /** A response mode's answer: the RP's redirect URI and the parameters it carries. */
  type ResponseModeHandler = (
    ctx: KoaContextWithOIDC,
    redirectUri: string,
    payload: Record<string, string>,
  ) => void | Promise<void>;

  export default function instance(provider: Provider): { responseModes: Map<string, ResponseModeHandler> };
}
