/**
 * Bounds on the behavioural side channel's WebSockets (signals-websocket.ts). Its upgrades are served on the raw
 * `upgrade` event, outside Koa, so neither the rate limits nor the load shedder see them; a socket, once open,
 * costs a file descriptor for as long as it lives. So, in each process:
 *
 * - at most {@link PER_ADDRESS} sockets (handshaking or open) per client address, and {@link IN_ALL} in all
 *   (each handshake reads the interaction and the login in Redis); past them, 429 `RATE_LIMITED` /
 *   `LOAD_SHEDDING`;
 * - at most one open socket per login: a second one closes the first (a page loaded again);
 * - a socket lives at most {@link SOCKET_LIFE_MS} from its 101, pings or not (the page then sends its vector by
 *   POST, as when the socket is refused).
 */

/** Sockets, handshaking or open, of one client address. */
export const PER_ADDRESS = 8;
/** Sockets, handshaking or open, of this process. */
export const IN_ALL = 4096;
/** Longest life of an open socket, in ms (a person reading the chooser for a while is served by the POST after). */
export const SOCKET_LIFE_MS = 5 * 60_000;

export type CapRefusal = 'address' | 'process';

export class SocketCaps {
  readonly #perAddress = new Map<string, number>();
  readonly #byLogin = new Map<string, () => void>();
  #inAll = 0;
  readonly #limits: { perAddress: number; inAll: number };
  /** Longest life of an open socket here, in ms. */
  readonly lifeMs: number;

  constructor(limits: { perAddress?: number; inAll?: number; lifeMs?: number } = {}) {
    this.#limits = { perAddress: limits.perAddress ?? PER_ADDRESS, inAll: limits.inAll ?? IN_ALL };
    this.lifeMs = limits.lifeMs ?? SOCKET_LIFE_MS;
  }

  /** Takes a place for a socket of `address`, or says which cap refuses it; `release` gives the place back once. */
  admit(address: string): { release: () => void } | CapRefusal {
    const held = this.#perAddress.get(address) ?? 0;
    if (this.#inAll >= this.#limits.inAll) return 'process';
    if (held >= this.#limits.perAddress) return 'address';
    this.#perAddress.set(address, held + 1);
    this.#inAll += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#inAll -= 1;
        const left = (this.#perAddress.get(address) ?? 1) - 1;
        if (left <= 0) this.#perAddress.delete(address);
        else this.#perAddress.set(address, left);
      },
    };
  }

  /** Records the open socket of `loginId`, closing the one it had (`close`), and returns how to forget it. */
  open(loginId: string, close: () => void): () => void {
    const earlier = this.#byLogin.get(loginId);
    this.#byLogin.set(loginId, close);
    earlier?.();
    return () => {
      if (this.#byLogin.get(loginId) === close) this.#byLogin.delete(loginId);
    };
  }

  /**
   * Closes every open socket (a graceful stop: an upgraded socket is a connection `server.close()` waits for, and a
   * login page's lives minutes). The pages then send their vector by POST, to whichever instance answers.
   */
  closeAll(): void {
    for (const close of [...this.#byLogin.values()]) close();
    this.#byLogin.clear();
  }

  /** Sockets held now (tests, metrics). */
  get held(): number {
    return this.#inAll;
  }
}
