/**
 * Security headers on every response the gateway itself renders (oidc-provider's responses pass
 * through the same middleware): no framing, no sniffing, no referrer leaks, a strict CSP whose only
 * scripts are the auto-post snippet and the behavioural script (allowed by their hashes; the latter may
 * only talk to our own origin: `connect-src 'self'`), HSTS when served over TLS. The surfaces that serve
 * a script of their own hand its CSP hash in (`extraScriptHashes`), so this file knows none of them.
 */
import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';

const AUTO_POST_SCRIPT = "document.getElementById('auto').submit()";
const SCRIPT_HASH = `'sha256-${createHash('sha256').update(AUTO_POST_SCRIPT).digest('base64')}'`;

const OWN_PAGES = /^\/(interaction|saml)\//;

export function securityHeaders(secure: boolean, extraScriptHashes: readonly string[]): Middleware {
  const scripts = [SCRIPT_HASH, ...extraScriptHashes].join(' ');
  return async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
    // oidc-provider's own pages (form_post, logout) carry their own inline scripts: CSP on ours only.
    if (OWN_PAGES.test(ctx.path))
      ctx.set(
        'Content-Security-Policy',
        `default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; script-src ${scripts}; connect-src 'self'; form-action *; frame-ancestors 'none'; base-uri 'none'`,
      );
    if (secure) ctx.set('Strict-Transport-Security', 'max-age=63072000; includeSubDomains');
    await next();
  };
}
