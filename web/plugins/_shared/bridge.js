// @ts-check
// bridge.js: this plugin's side of the xroom plugin contract (version 1).
// Waits for the app's `xroom:init` and its MessagePort, then offers
// `call(method, params)` (a promise, with a timeout) and `on(event, fn)`.
// Shared by the bundled plugins from /plugins/_shared/ (served like a
// plugin file, with the plugin CSP), and usable by any plugin.

const API = 1;

/** An answer with `error`, or no answer in time. */
export class BridgeError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * @typedef {{resolve: (v: any) => void, reject: (e: Error) => void, timer: number}} Pending
 */

export class Bridge {
  constructor() {
    /** @type {MessagePort | null} */
    this.port = null;
    /** @type {string[]} */
    this.permissions = [];
    this.next = 1;
    /** @type {Map<number, Pending>} */
    this.pending = new Map();
    /** @type {Map<string, Set<(data: any) => void>>} */
    this.handlers = new Map();
    /** Resolves with the granted permissions once the app has handed us the port. */
    this.ready = new Promise((resolve) => {
      /** @param {MessageEvent} ev */
      const onInit = (ev) => {
        const d = ev.data;
        if (ev.source !== window.parent || !d || d.type !== 'xroom:init' || d.api !== API ||
            !ev.ports || !ev.ports[0] || this.port) return;
        window.removeEventListener('message', onInit);
        this.permissions = Array.isArray(d.permissions)
          ? d.permissions.filter((/** @type {unknown} */ p) => typeof p === 'string') : [];
        this.port = ev.ports[0];
        this.port.onmessage = (m) => this.receive(m.data);
        resolve(this.permissions);
      };
      window.addEventListener('message', onInit);
    });
  }

  /**
   * Calls a method of the app; rejects with a BridgeError on an error answer
   * or after `timeoutMs`.
   * @param {string} method
   * @param {object} [params]
   * @param {number} [timeoutMs]
   * @returns {Promise<any>}
   */
  call(method, params = {}, timeoutMs = 8000) {
    const port = this.port;
    if (!port) return Promise.reject(new BridgeError('not-ready', 'not connected to xroom yet'));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.pending.delete(id);
        reject(new BridgeError('timeout', `${method}: no answer from xroom`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      port.postMessage({ id, method, params });
    });
  }

  /**
   * Calls `fn(data)` for every `event` from the app.
   * @param {string} event
   * @param {(data: any) => void} fn
   */
  on(event, fn) {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(fn);
  }

  /** @param {any} msg */
  receive(msg) {
    if (!msg || typeof msg !== 'object') return;
    if (typeof msg.id === 'number') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) {
        const e = msg.error;
        p.reject(new BridgeError(typeof e.code === 'string' ? e.code : 'error',
          typeof e.message === 'string' ? e.message : 'refused'));
      } else {
        p.resolve(msg.result);
      }
      return;
    }
    if (typeof msg.event !== 'string') return;
    for (const fn of this.handlers.get(msg.event) || []) {
      try {
        fn(msg.data);
      } catch (err) {
        console.error(`plugin: ${msg.event} handler failed`, err);
      }
    }
  }
}
