/**
 * Drives one login as a browser does, with the suite's own RP client and state:
 * RP → /authorize (idp_hint = the suite IdP) → [chooser] → AuthnRequest auto-post → suite IdP login →
 * SAMLResponse auto-post → ACS → … → back at the RP redirect URI (query or form_post), or a final page.
 *
 * - Every hop can be intercepted: IdP response overrides, a mutation of the Response XML or form fields.
 * - Step-up (the gateway asking the IdP again) is followed up to 3 IdP round trips.
 * - The outcome says where the browser ended and what it carried: `code`, `error`, `state`, `iss`.
 */
import type { ResponseOverrides } from '../saml-idp/build-response.ts';
import type { EidasOverrides } from '../saml-idp/eidas/server.ts';
import { Browser, type Landing } from './browser/browser.ts';
import { formsIn, type Form } from './browser/forms.ts';
import type { AuthorizationRequest, SuiteRp } from './parties/rp.ts';
import type { SuiteEidasNode } from './parties/eidas-node.ts';
import type { SuiteIdp } from './parties/idp.ts';

/** How to run a login. */
export interface LoginInput {
  /** Authorization parameters added or overridden (`null` removes one). */
  authorize?: Record<string, string | null>;
  /** IdP response overrides for this login (the SAML IdP). */
  overrides?: ResponseOverrides;
  /** eIDAS node overrides for this login (the eIDAS node). */
  eidas?: EidasOverrides;
  /** Changes the Response XML before it is posted to the ACS. */
  mutate?: (xml: string) => string | Promise<string>;
  /** Changes the ACS form fields (after `mutate`). */
  mutateForm?: (fields: Record<string, string>) => Record<string, string>;
  /** Takes over the ACS post: gets the form, returns what the browser landed on. */
  post?: (form: Form, browser: Browser, base: URL) => Promise<Landing>;
  /** Username at the IdP (default the suite user). */
  username?: string;
  browser?: Browser;
  /** Stop as soon as the gateway's AuthnRequest form is reached (for request-shape checks). */
  stopAtAuthnRequest?: boolean;
}

/** Where a login ended. */
export interface LoginOutcome {
  /** `rp`: redirected (or form-posted) to the RP; `page`: a final page elsewhere. */
  at: 'rp' | 'page';
  url: URL;
  status: number;
  /** The authorization response parameters (query or form_post), empty when `at = page`. */
  params: URLSearchParams;
  code: string | null;
  error: string | null;
  responseMode: 'query' | 'form_post' | null;
  request: AuthorizationRequest;
  browser: Browser;
  /** The gateway's AuthnRequest XML, when one was sent to the IdP, and the form that carried it. */
  authnRequestXml?: string;
  authnRequestForm?: Form;
  /** The SAMLResponse XML as the IdP produced it and as posted (after mutation). */
  responseXml?: string;
  postedXml?: string;
  acsForm?: Form;
  /** The final page's HTML (when `at = page`) and any stable error code it shows. */
  html: string;
  errorCode: string | null;
}

/** The upstream party a login goes through: its registry id, its user, and how to arm its overrides. */
export interface LoginParty {
  idpId: string;
  user: { username: string; password: string };
  /** Applies the login's overrides; returns what undoes them. */
  arm(input: LoginInput): () => void;
}

/** The suite's SAML IdP as a login party (`input.overrides`). */
export function idpParty(idp: SuiteIdp): LoginParty {
  return {
    idpId: idp.idpId,
    user: idp.user,
    arm: (input) => {
      if (input.overrides === undefined) return () => {};
      idp.setResponseOverrides(input.overrides);
      return () => idp.setResponseOverrides(undefined);
    },
  };
}

/** The suite's eIDAS node as a login party (`input.eidas`). */
export function eidasParty(node: SuiteEidasNode): LoginParty {
  return {
    idpId: node.idpId,
    user: node.user,
    arm: (input) => {
      if (input.eidas === undefined) return () => {};
      node.setOverrides(input.eidas);
      return () => node.setOverrides(undefined);
    },
  };
}

/**
 * Runs a login.
 *
 * @example const out = await runLogin(rp, idpParty(idp), { overrides: { audience: 'urn:other' } }); out.code === null
 */
export async function runLogin(
  rp: SuiteRp,
  idp: LoginParty | undefined,
  input: LoginInput = {},
): Promise<LoginOutcome> {
  const browser = input.browser ?? new Browser();
  const hint: Record<string, string | null> = idp === undefined ? {} : { idp_hint: idp.idpId };
  const request = rp.authorization({ ...hint, ...input.authorize });
  const redirectUri = rp.client.redirectUri;
  const atRp = (u: URL): boolean => u.href.startsWith(redirectUri) && u.pathname === new URL(redirectUri).pathname;
  const out: Partial<LoginOutcome> = { request, browser };
  const disarm = idp?.arm(input) ?? (() => {});
  try {
    let step = await browser.follow(request.url, {}, atRp);
    for (let round = 0; round < 8; round++) {
      if (atRp(step.url)) return finish(out, step, 'query', step.url.searchParams, '');
      const html = await step.response.text();
      const forms = formsIn(html);
      const back = forms.find((f) => f.action.startsWith(redirectUri));
      if (back !== undefined) return finish(out, step, 'form_post', new URLSearchParams(back.fields), html);
      const chooser = forms.find((f) => /\/idp$/.test(f.action) && f.method === 'POST');
      const authn = forms.find((f) => 'SAMLRequest' in f.fields);
      const samlResponse = forms.find((f) => 'SAMLResponse' in f.fields);
      const idpLogin = forms.find((f) => 'password' in f.fields || /name="password"/.test(html));
      if (step.response.status !== 200 || idp === undefined)
        return finish(out, step, null, new URLSearchParams(), html);
      if (chooser !== undefined) {
        step = await browser.submit(chooser, step.url, { idp: idp.idpId }, atRp);
      } else if (authn !== undefined) {
        out.authnRequestXml = Buffer.from(authn.fields.SAMLRequest ?? '', 'base64').toString('utf8');
        out.authnRequestForm = authn;
        if (input.stopAtAuthnRequest) return finish(out, step, null, new URLSearchParams(), html);
        step = await browser.submit(authn, step.url, {}, atRp);
      } else if (idpLogin !== undefined) {
        step = await browser.submit(
          idpLogin,
          step.url,
          {
            username: input.username ?? idp.user.username,
            password: input.username ? `${input.username}-demo` : idp.user.password,
          },
          atRp,
        );
      } else if (samlResponse !== undefined) {
        step = await postResponse(out, samlResponse, step.url, browser, input, atRp);
      } else {
        return finish(out, step, null, new URLSearchParams(), html);
      }
    }
    throw new Error(`the login did not end after 8 pages: ${browser.trail.slice(-6).join(' → ')}`);
  } finally {
    disarm();
  }
}

async function postResponse(
  out: Partial<LoginOutcome>,
  form: Form,
  base: URL,
  browser: Browser,
  input: LoginInput,
  atRp: (u: URL) => boolean,
): Promise<Landing> {
  const original = Buffer.from(form.fields.SAMLResponse ?? '', 'base64').toString('utf8');
  out.responseXml = original;
  let fields = { ...form.fields };
  if (input.mutate !== undefined) {
    const xml = await input.mutate(original);
    fields.SAMLResponse = Buffer.from(xml, 'utf8').toString('base64');
  }
  if (input.mutateForm !== undefined) fields = input.mutateForm(fields);
  out.postedXml = Buffer.from(fields.SAMLResponse ?? '', 'base64').toString('utf8');
  const posted = { ...form, fields };
  out.acsForm = posted;
  if (input.post !== undefined) return input.post(posted, browser, base);
  return browser.submit(posted, base, {}, atRp);
}

function finish(
  out: Partial<LoginOutcome>,
  step: Landing,
  responseMode: LoginOutcome['responseMode'],
  params: URLSearchParams,
  html: string,
): LoginOutcome {
  const at = responseMode === null ? 'page' : 'rp';
  const fromHeader = step.response.headers.get('x-error-code');
  const fromPage = /Error code:\s*<code>([A-Za-z0-9_]{1,64})<\/code>/.exec(html)?.[1] ?? null;
  return {
    ...(out as LoginOutcome),
    at,
    url: step.url,
    status: step.response.status,
    params,
    code: params.get('code'),
    error: params.get('error'),
    responseMode,
    html,
    errorCode: fromHeader ?? fromPage,
  };
}
