/**
 * A Koa context that is only its cookies, for tests of the cookie readers and writers (the binding, the device
 * cookie): `cookies` is what the browser sends; what the code sets on the response is kept in `set`, by name.
 *
 * @example
 * const { ctx, set } = cookieRequest({ '__Host-gw_bb': value });
 */
import type { Context } from 'koa';

export function cookieRequest(cookies: Record<string, string>): { ctx: Context; set: Map<string, string> } {
  const set = new Map<string, string>();
  const ctx = {
    cookies: { get: (name: string) => cookies[name], set: (name: string, value: string) => void set.set(name, value) },
  } as unknown as Context;
  return { ctx, set };
}
