// Load generation the benchmark scripts share.
import autocannon from 'autocannon';

/** Runs autocannon with `opts` and resolves with its result (rejects on its error). */
export function autocannonRun(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** The median of `xs` (the upper one of an even count), without reordering `xs`. */
export function median(xs) {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}
