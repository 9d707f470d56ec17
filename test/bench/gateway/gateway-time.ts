/**
 * Gateway-added latency of a login (issue #14 item 5): the time the browser and the RP spend waiting for the
 * gateway, summed over the login's requests to it (authorize, chooser, interaction, ACS, the redirects, the
 * token request), without the IdP's and the RP's own work and without the load generator's time between
 * requests. Each login runs in its own clock (AsyncLocalStorage), so concurrent logins do not mix.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

interface Clock {
  ms: number;
}

const clocks = new AsyncLocalStorage<Clock>();

/** Runs one login in a clock of its own; returns the gateway time it accumulated, ms. */
export async function withGatewayClock(work: () => Promise<void>): Promise<number> {
  const clock: Clock = { ms: 0 };
  await clocks.run(clock, work);
  return clock.ms;
}

/** Times a request to the gateway (what `request` awaits: headers, or the body too) into the login's clock. */
export async function atGateway<T>(request: () => Promise<T>): Promise<T> {
  const clock = clocks.getStore();
  const started = performance.now();
  try {
    return await request();
  } finally {
    if (clock) clock.ms += performance.now() - started;
  }
}
