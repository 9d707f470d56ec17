/**
 * The OIDC refusal checks judge the first hop of an authorization request (conformance review, thirty-seventh round):
 * an error redirect to the RP or a 4xx page is a refusal; an RP told `temporarily_unavailable` or `server_error`
 * (a rate limit, an outage), or a 429 page, judged nothing of what was sent and is not counted as refusing it.
 */
import test from 'ava';
import { refusedHop, type FirstHop } from '../../conformance/suite/checks/oidc/flows.ts';

const RP = 'http://127.0.0.1:7500/callback';
const back = (query: string): FirstHop => ({
  status: 303,
  location: new URL(`${RP}?${query}`),
  params: new URLSearchParams(query),
});
const page = (status: number): FirstHop => ({ status, location: null, params: new URLSearchParams() });

test('an error redirect to the RP or a 4xx page refuses', (t) => {
  t.true(refusedHop(back('error=invalid_request&state=s'), RP));
  t.true(refusedHop(back('error=access_denied'), RP));
  t.true(refusedHop(page(400), RP));
});

test('a code, an overload, an outage or a rate limit is no refusal', (t) => {
  t.false(refusedHop(back('code=abc&state=s'), RP));
  t.false(refusedHop(back('error=temporarily_unavailable&state=s'), RP));
  t.false(refusedHop(back('error=server_error'), RP));
  t.false(refusedHop(page(429), RP));
  t.false(refusedHop(page(503), RP));
  const elsewhere = 'https://elsewhere.example/cb?error=invalid_request';
  const sentElsewhere = { status: 303, location: new URL(elsewhere), params: new URL(elsewhere).searchParams };
  t.false(refusedHop(sentElsewhere, RP), 'an error sent elsewhere than the RP');
});
