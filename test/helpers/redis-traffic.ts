/**
 * Counts the Redis traffic of this test process on ioredis itself: every command built, and every round trip
 * (one write of a client's socket: a command alone, a pipeline or MULTI, or the commands of one turn of the event
 * loop, `gateway/store/redis-one-write-per-turn.ts`). A test reads the counters once the operation it measures
 * has ended (a turn's commands leave at the end of that turn). Installed once, on first import; a test
 * reads the counters before and after the operation it measures.
 *
 * @example
 * const before = { ...redisTraffic };
 * await stage.evaluate(login);
 * t.is(redisTraffic.roundTrips - before.roundTrips, 1);
 */
import { Redis } from 'ioredis';
import { onRedisBatch } from './redis-socket-batches.ts';

export const redisTraffic = { commands: 0, roundTrips: 0 };

const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  redisTraffic.commands += 1;
  return sendCommand.apply(this, args);
};
// a round trip: one write of a client's socket, whatever it carried (redis-socket-batches.ts)
onRedisBatch(() => {
  redisTraffic.roundTrips += 1;
});
