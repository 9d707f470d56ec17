/**
 * What the manual-review page says when a sign-in went there only because no suitable WebAuthn
 * credential is enrolled (level 3 without a security key, level 2 without a device or LoA high).
 */
import { escapeHtml } from '../http/html.ts';

/** A paragraph for the review page, or '' when the review has another cause. */
export function fallbackNotice(reasons: readonly string[]): string {
  if (reasons[0] === 'LEVEL3_UNAVAILABLE') {
    return `<p>${escapeHtml('This sign-in needs a security key, and none is registered for your account: our team checks it instead. A security key can be added after a sign-in checked at this level.')}</p>\n`;
  }
  if (reasons[0] === 'LEVEL2_UNAVAILABLE') {
    return `<p>${escapeHtml('This sign-in needs your device to confirm it is you, and none is registered for your account: our team checks it instead.')}</p>\n`;
  }
  return '';
}
