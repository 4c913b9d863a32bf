/**
 * Wall-clock time in microseconds, for TIME and INFO's server_time_usec.
 *
 * Redis reads gettimeofday(). Node has no microsecond wall clock: Date.now() is the wall clock
 * in whole milliseconds, and performance.timeOrigin + performance.now() is finer but monotonic,
 * so it drifts away from the wall clock as NTP slews it. We take the fine clock for the
 * microseconds and keep it inside the wall clock's current millisecond, resetting the offset
 * between the two whenever it leaves it.
 */
let offsetMs = performance.timeOrigin;

export function wallMicros(): bigint {
  const mono = performance.now();
  const wall = Date.now();
  let t = offsetMs + mono;
  if (t < wall || t >= wall + 1) {
    t = t < wall ? wall : wall + 0.999;
    offsetMs = t - mono;
  }
  return BigInt(Math.floor(t * 1000));
}
