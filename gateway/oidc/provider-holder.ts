/**
 * Holds the current oidc-provider generation. A key or algorithm change builds a new Provider and swaps
 * one reference; requests already inside the old generation finish there. If a build throws, the old
 * generation keeps serving. All state is in Redis, so no login in flight is lost by a swap.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export class ProviderHolder {
  readonly #build: () => Provider;
  #provider: Provider;
  #handler: Handler;
  #generation = 1;

  constructor(build: () => Provider) {
    this.#build = build;
    this.#provider = build();
    this.#handler = this.#provider.callback() as unknown as Handler;
  }

  get provider(): Provider {
    return this.#provider;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Builds a new generation and swaps it in; returns its number. Throws (keeping the old one) on failure. */
  rebuild(): number {
    const next = this.#build();
    const handler = next.callback() as unknown as Handler;
    this.#provider = next;
    this.#handler = handler;
    this.#generation += 1;
    return this.#generation;
  }

  /** The one middleware mounted in Koa; it dispatches to whichever generation is current. */
  middleware(): Middleware {
    return async (ctx) => {
      ctx.respond = false;
      await this.#handler(ctx.req, ctx.res);
    };
  }
}
