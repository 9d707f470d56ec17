/**
 * A person's login, step by step, as a browser does it: RP → gateway /authorize → chooser → IdP
 * (AuthnRequest auto-post) → IdP login form → SAMLResponse auto-post to the ACS → gateway completion →
 * back at the RP's redirect URI. Each step can be intercepted (e.g. to tamper with the SAMLResponse).
 */
import { Browser, formsIn, type Form } from './browser.ts';
import { recentLogLines } from '../harness/recent-log-lines.ts';

export interface JourneyOptions {
  username: string;
  password?: string;
  idp?: string;
  redirectUri: string;
  /** Called with the form that posts the SAMLResponse to the ACS; may change its fields. */
  beforeAcs?: (form: Form) => Form | Promise<Form>;
  browser?: Browser;
  /** How the RP sends the authorization request: a redirect (GET, default) or an auto-posted form (POST). */
  authorizationMethod?: 'GET' | 'POST';
}

export interface JourneyResult {
  browser: Browser;
  /** Where the browser ended: the RP redirect URI (with code or error), or the last page. */
  url: URL;
  status: number;
  html: string;
  /** The SAMLResponse form as it was posted (for replay tests). */
  acsForm?: Form;
  /** The gateway's login id (the oidc-provider interaction uid), once the chooser was reached. */
  loginId?: string;
}

function only(html: string, what: string): Form {
  const forms = formsIn(html);
  if (forms.length === 0)
    throw new Error(`expected a form (${what}); page was:\n${html.slice(0, 800)}\n${recentLogLines()}`);
  return forms[0]!;
}

export async function loginJourney(authorizationUrl: URL, options: JourneyOptions): Promise<JourneyResult> {
  const browser = options.browser ?? new Browser();
  const atRp = (u: URL) => u.toString().startsWith(options.redirectUri);
  let step =
    options.authorizationMethod === 'POST'
      ? await browser.submit(
          {
            action: `${authorizationUrl.origin}${authorizationUrl.pathname}`,
            method: 'POST',
            fields: Object.fromEntries(authorizationUrl.searchParams),
          },
          authorizationUrl,
          {},
          atRp,
        )
      : await browser.follow(authorizationUrl, {}, atRp);
  if (atRp(step.url)) return { browser, url: step.url, status: step.response.status, html: '' };
  let html = await step.response.text();
  if (!step.url.pathname.startsWith('/interaction/')) throw new Error(`expected the chooser, got ${step.url}`);
  const loginId = step.url.pathname.split('/')[2];
  if (formsIn(html).some((f) => f.action.endsWith('/idp'))) {
    const chooser = only(html, 'chooser');
    step = await browser.submit(chooser, step.url, { idp: options.idp ?? 'demo-idp' }, atRp);
    html = await step.response.text();
  }
  // the gateway's auto-posting AuthnRequest form → the IdP's login page
  step = await browser.submit(only(html, 'AuthnRequest post'), step.url, {}, atRp);
  html = await step.response.text();
  if (step.response.status !== 200)
    throw new Error(`IdP refused the AuthnRequest (${step.response.status}): ${html.slice(0, 400)}`);
  const login = only(html, 'IdP login form');
  step = await browser.submit(
    login,
    step.url,
    { username: options.username, password: options.password ?? `${options.username}-demo` },
    atRp,
  );
  html = await step.response.text();
  let acsForm = only(html, 'SAMLResponse post');
  if (options.beforeAcs) acsForm = await options.beforeAcs(acsForm);
  step = await browser.submit(acsForm, step.url, {}, atRp);
  const finalHtml = atRp(step.url) ? '' : await step.response.text();
  // a 500 is never a login's expected end: say what the gateway logged (a test bed logs nothing otherwise)
  if (step.response.status >= 500 && step.response.status !== 503)
    console.error(`login ended ${step.response.status} at ${step.url.pathname}; ${recentLogLines()}`);
  return { browser, url: step.url, status: step.response.status, html: finalHtml, acsForm, loginId };
}

/**
 * Goes through the IdP once more after the gateway asked for a step-up (the page it ended on posts a new
 * AuthnRequest with ForceAuthn): the IdP's login form, then the SAMLResponse back to the ACS.
 */
export async function continueAfterStepUp(
  previous: JourneyResult,
  options: { username: string; password?: string; redirectUri: string },
): Promise<{ url: URL; html: string }> {
  const { browser } = previous;
  const atRp = (u: URL) => u.toString().startsWith(options.redirectUri);
  let step = await browser.submit(only(previous.html, 'step-up AuthnRequest post'), previous.url, {}, atRp);
  let html = await step.response.text();
  step = await browser.submit(
    only(html, 'IdP login form'),
    step.url,
    { username: options.username, password: options.password ?? `${options.username}-demo` },
    atRp,
  );
  html = await step.response.text();
  step = await browser.submit(only(html, 'SAMLResponse post'), step.url, {}, atRp);
  return { url: step.url, html: atRp(step.url) ? '' : await step.response.text() };
}
