// @ts-check
// chains.js: work kept in order per key (per peer, mostly). Each job runs
// after the one queued before it for the same key, whatever became of
// that one; a job that fails is logged and does not stop the ones behind
// it. What is sealed or opened for a peer, or checked from it, goes
// through one of these, so that it is acted on in the order it came.

export class Chains {
  /** @param {string} what  what a failed job was, for the log ("data message not sent") */
  constructor(what) {
    this.what = what;
    /** @type {Map<string, Promise<void>>} the last job of each key */
    this.tails = new Map();
  }

  /**
   * Runs `fn` after every job queued before it for `key`; resolves when it
   * has run (or failed).
   * @param {string} key
   * @param {() => unknown} fn
   * @returns {Promise<void>}
   */
  run(key, fn) {
    const next = (this.tails.get(key) ?? Promise.resolve()).then(fn)
      .then(() => {}, (e) => console.warn(`xroom: ${this.what}`, e));
    this.tails.set(key, next);
    return next;
  }

  /** Forgets `key` (jobs already queued still run). @param {string} key */
  delete(key) {
    this.tails.delete(key);
  }
}
