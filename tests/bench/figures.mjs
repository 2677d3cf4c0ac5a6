// figures.mjs: how the browser benchmarks summarise their runs.

/** The median of `xs` (the mean of the middle two for an even count). @param {number[]} xs */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Milliseconds as the benchmarks print them. @param {number} x */
export const ms = (x) => `${Math.round(x)} ms`;
