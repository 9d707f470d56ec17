/**
 * The gateway's first Redis command at boot, which fails the boot with the reason (gateway/boot.ts).
 */
import type { Redis } from 'ioredis';

/**
 * The first PING, saying why Redis could not answer (a certificate not trusted, a refused connection: the latest
 * connection error, a Cluster's node's too), not only that the retries ran out. No `cause`: a refused AUTH's error
 * carries the command's arguments, the password among them.
 */
export async function pingAtBoot(redis: Redis): Promise<void> {
  let latest: Error | undefined;
  const seen = (error: Error) => {
    latest = error;
  };
  redis.on('error', seen);
  try {
    await redis.ping();
  } catch (error) {
    const node = (redis as unknown as { lastNodeError?: Error }).lastNodeError;
    const why = [latest?.message ?? (error instanceof Error ? error.message : String(error)), node?.message]
      .filter((w) => w !== undefined && w !== '')
      .join(': ');
    throw new Error(`Redis did not answer at boot: ${why}`);
  } finally {
    redis.off('error', seen);
  }
}
