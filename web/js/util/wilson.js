// @ts-check
// wilson.js: the 95% Wilson score interval, as the daemon computes it
// (src/stats.c), for the dashboard's daily points.

const Z = 1.959963984540054;

/**
 * @param {number} k successes
 * @param {number} n trials (> 0)
 * @returns {{lo: number, hi: number}}
 */
export function wilson(k, n) {
  if (n <= 0) return { lo: 0, hi: 1 };
  const p = k / n;
  const z2 = Z * Z;
  const den = 1 + z2 / n;
  const mid = (p + z2 / (2 * n)) / den;
  const half = (Z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / den;
  return { lo: Math.max(0, mid - half), hi: Math.min(1, mid + half) };
}
