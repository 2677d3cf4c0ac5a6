// random-file.mjs: a file of random bytes for the benchmarks, written in
// 8 MiB pieces (never whole in memory); resolves with its SHA-256 (hex).
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';

const PIECE = 8 * 1024 * 1024;

/** @param {string} path @param {number} size bytes */
export async function writeRandomFile(path, size) {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let left = size; left > 0;) {
    const b = randomBytes(Math.min(left, PIECE));
    hash.update(b);
    if (!out.write(b)) await new Promise((r) => out.once('drain', r));
    left -= b.length;
  }
  await new Promise((r) => out.end(r));
  return hash.digest('hex');
}
