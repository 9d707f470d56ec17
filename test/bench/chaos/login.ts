/**
 * One login of the chaos run's load, as a person's browser does it, and what it ended with: the RP's code, or
 * the error the person saw (an RP's `error`, or a gateway error page's code and reference), with the HTTP
 * status of that last page; a page the journey did not expect is described.
 */
import type * as oidc from 'openid-client';
import { Browser, type RequestInit2 } from '../../helpers/browser.ts';
import { authorizationRequest } from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';
import { errorOf, referenceOf, type LoginResult } from './ledger.ts';
import { RP } from './topology.ts';

/** A browser that remembers the last answer it got (the page a journey stopped at: its status, its reference). */
class RecordingBrowser extends Browser {
  lastStatus = 0;
  lastPage: Promise<string> = Promise.resolve('');
  /** The login id (interaction uid), once the gateway's chooser was reached. */
  loginId: string | undefined;
  override async request(url: string | URL, init: RequestInit2 = {}): Promise<Response> {
    const response = await super.request(url, init);
    this.lastStatus = response.status;
    this.loginId ??= /^\/interaction\/([^/]+)/.exec(new URL(url).pathname)?.[1];
    this.lastPage = response.status >= 400 ? response.clone().text() : Promise.resolve('');
    return response;
  }
}

/** One person's login, from the RP's authorization request to the code (or the page it stopped at). */
export async function oneLogin(rp: oidc.Configuration, n: number): Promise<LoginResult> {
  const startedAt = Date.now();
  const { url } = await authorizationRequest(rp, { scope: 'openid profile' });
  const browser = new RecordingBrowser();
  try {
    const journey = await loginJourney(url, { username: n % 2 ? 'jean' : 'marie', redirectUri: RP, browser });
    const code = journey.url.searchParams.get('code');
    const requestId = referenceOf(journey.html);
    return {
      startedAt,
      endedAt: Date.now(),
      ...(journey.loginId ? { loginId: journey.loginId } : {}),
      ended: code
        ? 'code'
        : {
            code: errorOf(journey.url.searchParams.get('error') ?? journey.html),
            status: journey.status,
            ...(requestId ? { requestId } : {}),
            ...(errorOf(journey.url.searchParams.get('error') ?? journey.html) === 'UNRECOGNISED_PAGE'
              ? {
                  detail: `${journey.url.pathname}: ${journey.html
                    .replace(/<[^>]+>/g, ' ')
                    .replace(/\s+/g, ' ')
                    .slice(0, 160)}`,
                }
              : {}),
          },
    };
  } catch (error) {
    // the journey stopped at a page it did not expect: a gateway error page (e.g. a 503 while the HSM sheds
    // load) is a failure with a code; anything else (e.g. the balancer's 502 for a request the killed process
    // held) is an unexpected page, described
    const page = await browser.lastPage.catch(() => '');
    const requestId = referenceOf(page);
    const shown = /Error code:/.test(page) ? errorOf(page) : 'UNEXPECTED_PAGE';
    return {
      startedAt,
      endedAt: Date.now(),
      ...(browser.loginId ? { loginId: browser.loginId } : {}),
      ended: {
        code: shown,
        status: browser.lastStatus,
        ...(shown === 'UNEXPECTED_PAGE' ? { detail: (error as Error).message.slice(0, 160).replace(/\s+/g, ' ') } : {}),
        ...(requestId ? { requestId } : {}),
      },
    };
  }
}
