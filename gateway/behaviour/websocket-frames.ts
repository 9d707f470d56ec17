/**
 * The few RFC 6455 pieces the behavioural side channel needs, with no `ws` package: the handshake
 * answer (`Sec-WebSocket-Accept`), a reader of client frames (masked, no extension, control frames
 * ≤ 125 bytes, a message capped in size) and a writer of unmasked server frames.
 *
 * Anything outside that is a protocol error the reader reports as a close code (1002 protocol error,
 * 1009 too big); it never buffers more than the cap plus one frame header.
 */
import { createHash } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key` (RFC 6455 §4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** Whether a `Sec-WebSocket-Key` is what a client must send: base64 of 16 bytes. */
export function validKey(key: string | undefined): key is string {
  return typeof key === 'string' && /^[A-Za-z0-9+/]{22}==$/.test(key);
}

export type FrameEvent =
  | { kind: 'text'; text: string }
  | { kind: 'ping'; payload: Buffer }
  | { kind: 'close' }
  | { kind: 'error'; code: 1002 | 1003 | 1007 | 1009 };

/** Reads client frames from the socket's chunks; one instance per connection. */
export class FrameReader {
  readonly #cap: number;
  #buffer = Buffer.alloc(0);
  #message: Buffer[] = [];
  #messageSize = 0;
  #inMessage = false;

  constructor(capBytes: number) {
    this.#cap = capBytes;
  }

  /** Feeds a chunk; returns the events completed by it (an `error` ends the connection). */
  push(chunk: Buffer): FrameEvent[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const events: FrameEvent[] = [];
    for (;;) {
      const event = this.#next();
      if (event === null) return events;
      events.push(event);
      if (event.kind === 'error' || event.kind === 'close') return events;
    }
  }

  #next(): FrameEvent | null {
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) return null;
      const fin = (b[0]! & 0x80) !== 0;
      const opcode = b[0]! & 0x0f;
      if ((b[0]! & 0x70) !== 0) return { kind: 'error', code: 1002 }; // no extension was agreed
      if ((b[1]! & 0x80) === 0) return { kind: 'error', code: 1002 }; // client frames must be masked
      let length = b[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return null;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return null;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(this.#cap)) return { kind: 'error', code: 1009 };
        length = Number(big);
        offset = 10;
      }
      const control = opcode >= 0x8;
      if (control && (length > 125 || !fin)) return { kind: 'error', code: 1002 };
      if (!control && this.#messageSize + length > this.#cap) return { kind: 'error', code: 1009 };
      if (b.length < offset + 4 + length) return null;
      const mask = b.subarray(offset, offset + 4);
      const payload = Buffer.from(b.subarray(offset + 4, offset + 4 + length));
      for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
      this.#buffer = b.subarray(offset + 4 + length);
      if (opcode === 0x8) return { kind: 'close' };
      if (opcode === 0x9) return { kind: 'ping', payload };
      if (opcode === 0xa) continue; // pong: nothing to do
      if (opcode === 0x2) return { kind: 'error', code: 1003 }; // binary: not what this channel takes
      if (opcode !== 0x1 && opcode !== 0x0) return { kind: 'error', code: 1002 };
      if ((opcode === 0x1) === this.#inMessage) return { kind: 'error', code: 1002 }; // continuation order
      this.#inMessage = !fin;
      this.#message.push(payload);
      this.#messageSize += length;
      if (!fin) continue;
      const whole = Buffer.concat(this.#message);
      this.#message = [];
      this.#messageSize = 0;
      try {
        return { kind: 'text', text: new TextDecoder('utf-8', { fatal: true }).decode(whole) };
      } catch {
        return { kind: 'error', code: 1007 };
      }
    }
  }
}

/** An unmasked server frame (FIN set). */
export function serverFrame(opcode: 0x1 | 0x8 | 0xa, payload: Buffer): Buffer {
  const header =
    payload.length < 126
      ? Buffer.from([0x80 | opcode, payload.length])
      : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}

/** A close frame with its status code and a short reason (a stable error code). */
export function closeFrame(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason.slice(0, 100)));
  payload.writeUInt16BE(code, 0);
  payload.write(reason.slice(0, 100), 2);
  return serverFrame(0x8, payload);
}
