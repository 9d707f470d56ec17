/**
 * The WebAuthn routes, in front of the interaction routes:
 *
 * | method   | path                                   | handler                                     |
 * |----------|----------------------------------------|---------------------------------------------|
 * | GET/POST | /interaction/:uid/webauthn/authenticate | authenticationPage / authenticationAnswer   |
 * | GET/POST | /interaction/:uid/webauthn/register     | enrolmentPage / enrolmentAnswer             |
 * | GET      | /interaction/:uid/webauthn/credentials  | accountPage                                 |
 */
import type { Context, Middleware, Next } from 'koa';
import type { Services } from '../services.ts';
import { accountPage } from './account-page.ts';
import { authenticationAnswer, authenticationPage } from './authenticate.ts';
import { enrolmentAnswer, enrolmentPage } from './enrol.ts';

type Handler = (ctx: Context, services: Services, uid: string) => Promise<void>;
const PATH = /^\/interaction\/([A-Za-z0-9_-]{1,64})\/webauthn\/(authenticate|register|credentials)$/;

const HANDLERS: Record<string, Handler> = {
  'GET authenticate': authenticationPage,
  'POST authenticate': authenticationAnswer,
  'GET register': enrolmentPage,
  'POST register': enrolmentAnswer,
  'GET credentials': accountPage,
};

export function webauthnRoutes(services: Services): Middleware {
  return async (ctx: Context, next: Next) => {
    const match = PATH.exec(ctx.path);
    const handler = match ? HANDLERS[`${ctx.method} ${match[2]}`] : undefined;
    if (!match || !handler) return next();
    await handler(ctx, services, match[1]!);
  };
}
