/**
 * Counts the Redis traffic of this test process on ioredis itself: every command built, and every round trip
 * (a command sent alone, or one pipeline/MULTI sent as a whole). Installed once, on first import; a test
 * reads the counters before and after the operation it measures.
 *
 * @example
 * const before = { ...redisTraffic };
 * await stage.evaluate(login);
 * t.is(redisTraffic.roundTrips - before.roundTrips, 1);
 */
import { Redis } from 'ioredis';
import PipelineModule from 'ioredis/built/Pipeline.js';

export const redisTraffic = { commands: 0, roundTrips: 0 };

const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedCommand(this: Redis, ...args: Parameters<typeof sendCommand>) {
  redisTraffic.commands += 1;
  if (args[1] === undefined) redisTraffic.roundTrips += 1; // a pipeline passes its own buffering stream
  return sendCommand.apply(this, args);
};
const Pipeline = PipelineModule.default;
const exec = Pipeline.prototype.exec;
Pipeline.prototype.exec = function countedExec(this: InstanceType<typeof Pipeline>, ...args: Parameters<typeof exec>) {
  redisTraffic.roundTrips += 1;
  return exec.apply(this, args);
};
