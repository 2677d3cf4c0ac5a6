// @ts-check
// emitter.js: a small typed event emitter. A module declares its events as
// a map from name to payload type; `on` and `emit` are checked against it.

/**
 * @template {Record<string, any>} M
 */
export class Emitter {
  constructor() {
    /** @type {Map<keyof M, Set<(ev: any) => void>>} */
    this.handlers = new Map();
  }

  /**
   * Calls `fn` for every `type` event; returns a function that removes it.
   * @template {keyof M} K
   * @param {K} type
   * @param {(ev: M[K]) => void} fn
   * @returns {() => void}
   */
  on(type, fn) {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(fn);
    return () => { set.delete(fn); };
  }

  /**
   * @template {keyof M} K
   * @param {K} type
   * @param {M[K]} ev
   */
  emit(type, ev) {
    const set = this.handlers.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(ev);
      } catch (e) {
        console.error(`xroom: ${String(type)} handler failed`, e);
      }
    }
  }
}
