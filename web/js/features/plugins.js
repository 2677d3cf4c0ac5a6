// @ts-check
// plugins.js: running plugins in a call (docs/plugins.md). No DOM here:
// views/plugins-view.js makes each plugin's frame, shows it, and tells
// this module when the frame has loaded (`connect`) or navigated away
// (`evict`).
//
// A plugin runs in `<iframe sandbox="allow-scripts">`: an opaque origin
// with no storage, no cookies, no network (the CSP its files are served
// with), no camera or microphone. All it can reach is the MessagePort this
// module gives it after the frame loads, and every request on that port is
// checked against the permissions the person granted:
//
//   send {data, to?}        messages   sealed over the data channel, only to
//                                      peers that run the same plugin
//   event message           messages
//   peers                   peers      [{id, name?}] (names adds name)
//   events peer-joined/left peers
//   storage.get / .set      storage    64 KiB per plugin, in localStorage
//
// "Peers" are the people in the call who run the same plugin: someone who
// declined a plugin is invisible to it. Between pages, sealed envelopes on
// the chat DataLink say who runs what: `plugin-on {id, by}` (by: who
// started it in the room), `plugin-off {id}`, and `plugin-msg {id, data}`.

import { Emitter } from '../util/emitter.js';
import { readObject, writeJSON } from '../util/storage.js';

export const API_VERSION = 1;

/**
 * Who started a plugin, as a peer's `plugin-on` claims it, checked: the
 * sender itself, or a third tab that has said itself that it runs it.
 * Never us (we know whether we started it: a peer claiming so would make
 * "You started …" appear), never a tab we have not heard run it; then the
 * sender counts as the starter.
 * @param {unknown} claimed @param {string} from @param {string} ours
 * @param {Map<string, string>} runners  tab → its starter, from their own word
 */
export function starterOf(claimed, from, ours, runners) {
  if (typeof claimed !== 'string' || claimed === ours) return from;
  return claimed === from || runners.has(claimed) ? claimed : from;
}
export const PERMISSIONS = Object.freeze(['messages', 'peers', 'names', 'storage']);
/** What each permission lets a plugin do, as the consent dialog says it. */
export const PERMISSION_TEXT = Object.freeze({
  messages: 'Send messages to the same plugin in other people’s browsers in this call, and receive theirs',
  peers: 'See who else in the call runs it (random ids), and when they come and go',
  names: 'See the display names of those people',
  storage: 'Keep up to 64 KiB of its own data in this browser',
});
export const MAX_DATA = 16 * 1024;
export const MAX_STORE = 64 * 1024;
const MAX_KEY = 256;
const ID_RE = /^[a-z0-9-]{1,32}$/;
/** Requests a plugin may make per second (bursts up to BURST). */
const RATE = 50;
const BURST = 200;

/**
 * @typedef {{id: string, name: string, version: string, author: string, description: string,
 *   entry: string, permissions: string[], privacy_policy?: string, bundled: boolean}} Manifest
 * @typedef {{manifest: Manifest, granted: string[], port: MessagePort | null,
 *   by: string, tokens: number, refill: number}} Running
 */

/**
 * Checks a manifest as the server published it (the server already
 * refused bad ones at start; this guards the page against a bad answer).
 * @param {unknown} v
 * @returns {Manifest | null}
 */
export function parseManifest(v) {
  if (!v || typeof v !== 'object') return null;
  const m = /** @type {Record<string, unknown>} */ (v);
  const str = (/** @type {unknown} */ x, max = 280) => typeof x === 'string' && x.length <= max;
  if (typeof m.id !== 'string' || !ID_RE.test(m.id)) return null;
  if (!str(m.name, 64) || !str(m.version, 32) || !str(m.author, 64) || !str(m.description) || !str(m.entry, 1024)) return null;
  if (!Array.isArray(m.permissions) || !m.permissions.every((p) => PERMISSIONS.includes(p))) return null;
  if (m.privacy_policy !== undefined && !str(m.privacy_policy, 2048)) return null;
  const entry = /** @type {string} */ (m.entry);
  if (entry.startsWith('/') || entry.includes('..') || entry.includes('\\')) return null;
  return {
    id: m.id, name: /** @type {string} */ (m.name), version: /** @type {string} */ (m.version),
    author: /** @type {string} */ (m.author), description: /** @type {string} */ (m.description), entry,
    permissions: [.../** @type {string[]} */ (m.permissions)],
    privacy_policy: /** @type {string | undefined} */ (m.privacy_policy), bundled: m.bundled === true,
  };
}

/** Where a plugin's privacy policy is: a file of the plugin (shown), a URL (the person opens it), or none. @param {Manifest} m */
export function policyOf(m) {
  const p = m.privacy_policy;
  if (!p) return { kind: /** @type {const} */ ('none'), href: '' };
  if (p.startsWith('https://')) return { kind: /** @type {const} */ ('url'), href: p };
  return { kind: /** @type {const} */ ('file'), href: `/plugins/${m.id}/${p}` };
}

/** Where a plugin's page is: its entry, under /plugins/<id>/. @param {Manifest} m */
export function entryOf(m) {
  return `/plugins/${m.id}/${m.entry}`;
}

/** Bytes of a JSON value (UTF-8), or -1 if it is not JSON. @param {unknown} v */
export function jsonBytes(v) {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? -1 : new TextEncoder().encode(s).length;
  } catch {
    return -1;
  }
}

/**
 * @typedef {{
 *   available: {},
 *   changed: {},
 *   started: {id: string, by: string},
 *   refused: {id: string, method: string, code: string},
 *   stopped: {id: string},
 *   evicted: {id: string},
 * }} PluginEvents
 */

/**
 * The plugins of this page: which exist, which run here, who runs what.
 * @extends {Emitter<PluginEvents>}
 */
export class Plugins extends Emitter {
  /**
   * @param {import('../transport/data-link.js').DataLink} link
   * @param {{tab: string, name: (tab: string) => string, peers: () => string[], storage?: Storage}} host
   */
  constructor(link, host) {
    super();
    this.link = link;
    this.host = host;
    this.storage = host.storage ?? globalThis.localStorage;
    /** @type {Map<string, Manifest>} */
    this.available = new Map();
    /** @type {Map<string, Running>} running in this page */
    this.running = new Map();
    /** @type {Map<string, Map<string, string>>} plugin id → (tab → who started it) for peers running it */
    this.remote = new Map();
    /** @type {Set<string>} plugin ids this person said no to in this call */
    this.declined = new Set();
    this.counters = { refused: 0, sent: 0, received: 0, evicted: 0 };
    this.loaded = false;
    /** @type {Promise<void>} the list from the server; what peers say waits for it */
    this.ready = Promise.resolve();
    link.handle('plugin-on', (from, m) => this.onOn(from, m));
    link.handle('plugin-off', (from, m) => this.onOff(from, m));
    link.handle('plugin-msg', (from, m) => this.onMsg(from, m));
    link.openListeners.add((tab) => this.announce(tab));
  }

  /** Reads the server's list (GET /api/plugins). */
  load() {
    this.ready = this.fetchList();
    return this.ready;
  }

  async fetchList() {
    try {
      const r = await fetch('/api/plugins', { cache: 'no-store', credentials: 'omit' });
      const body = await r.json();
      for (const raw of Array.isArray(body?.plugins) ? body.plugins : []) {
        const m = parseManifest(raw);
        if (m) this.available.set(m.id, m);
      }
    } catch (e) {
      console.warn('xroom: no plugin list', e);
    }
    this.loaded = true;
    this.emit('available', {});
  }

  /** Who started plugin `id` in the room, as far as this page knows ('' if nobody). @param {string} id */
  startedBy(id) {
    const r = this.running.get(id);
    if (r) return r.by;
    const m = this.remote.get(id);
    return m && m.size ? [...m.values()][0] : '';
  }

  /** Peers (tabs) running plugin `id`. @param {string} id */
  runners(id) {
    const live = new Set(this.host.peers());
    return [...(this.remote.get(id)?.keys() ?? [])].filter((t) => live.has(t));
  }

  /**
   * Starts plugin `id` in this page, after the person consented: it runs
   * from now on, and the others are told. Returns its manifest, for the
   * view to load its page (entryOf) in a sandboxed frame; null if it does
   * not exist or already runs.
   * @param {string} id
   * @returns {Manifest | null}
   */
  run(id) {
    const manifest = this.available.get(id);
    if (!manifest || this.running.has(id)) return null;
    const by = this.startedBy(id) || this.host.tab;
    /** @type {Running} */
    const r = { manifest, granted: [...manifest.permissions], port: null, by, tokens: BURST, refill: performance.now() };
    this.running.set(id, r);
    this.declined.delete(id);
    for (const t of this.link.openTabs()) this.link.send(t, { t: 'plugin-on', id, by });
    this.emit('changed', {});
    return manifest;
  }

  /**
   * The frame of running plugin `id` loaded the plugin's page (its first
   * load): the plugin gets its port, and nothing else.
   * @param {string} id
   * @param {{postMessage: (message: unknown, targetOrigin: string, transfer: Transferable[]) => void}} frame  the frame's window
   */
  connect(id, frame) {
    const r = this.running.get(id);
    if (!r || r.port) return;
    const ch = new MessageChannel();
    r.port = ch.port1;
    ch.port1.onmessage = (ev) => this.request(id, ev.data);
    // The frame's origin is opaque: '*' is the only target that reaches it;
    // the port is the only thing it gets.
    frame.postMessage({ type: 'xroom:init', api: API_VERSION, permissions: [...r.granted] }, '*', [ch.port2]);
  }

  /**
   * The frame of running plugin `id` loaded another page: the plugin
   * navigated its own frame (the app's frame-src stops it from leaving the
   * site, but it has left its page), and is stopped.
   * @param {string} id
   */
  evict(id) {
    if (!this.running.has(id)) return;
    console.warn(`xroom: plugin ${id} navigated its frame; stopped`);
    this.counters.evicted += 1;
    this.stop(id);
    this.emit('evicted', { id });
  }

  /** Stops plugin `id` here and tells the others. @param {string} id */
  stop(id) {
    const r = this.running.get(id);
    if (!r) return;
    this.running.delete(id);
    r.port?.close();
    this.emit('stopped', { id });
    for (const t of this.link.openTabs()) this.link.send(t, { t: 'plugin-off', id });
    this.emit('changed', {});
  }

  /** Says no to a plugin someone started. @param {string} id */
  decline(id) {
    this.declined.add(id);
    this.emit('changed', {});
  }

  /** A channel to `tab` opened: tell it what runs here. @param {string} tab */
  announce(tab) {
    for (const [id, r] of this.running) this.link.send(tab, { t: 'plugin-on', id, by: r.by });
  }

  /** A peer left the call. @param {string} tab */
  peerGone(tab) {
    for (const [id, m] of this.remote) {
      if (m.delete(tab)) this.event(id, 'peer-left', this.peerInfo(id, tab));
    }
    this.emit('changed', {});
  }

  /** @param {string} id @param {string} tab */
  peerInfo(id, tab) {
    const r = this.running.get(id);
    /** @type {{id: string, name?: string}} */
    const p = { id: tab };
    if (r?.granted.includes('names')) p.name = this.host.name(tab);
    return p;
  }

  /** @param {string} from @param {any} m */
  onOn(from, m) {
    if (!this.loaded) { // a peer's word can come before our list: wait for it
      this.ready.then(() => this.onOn(from, m));
      return;
    }
    if (!m || typeof m.id !== 'string' || !ID_RE.test(m.id) || !this.available.has(m.id)) return;
    let set = this.remote.get(m.id);
    if (!set) this.remote.set(m.id, (set = new Map()));
    const by = starterOf(m.by, from, this.host.tab, set);
    const fresh = !set.has(from);
    set.set(from, by);
    if (fresh) {
      this.event(m.id, 'peer-joined', this.peerInfo(m.id, from));
      // They may not know we run it (they started after we announced).
      const mine = this.running.get(m.id);
      if (mine) this.link.send(from, { t: 'plugin-on', id: m.id, by: mine.by });
      if (!mine && !this.declined.has(m.id)) this.emit('started', { id: m.id, by });
    }
    this.emit('changed', {});
  }

  /** @param {string} from @param {any} m */
  onOff(from, m) {
    if (!m || typeof m.id !== 'string') return;
    if (this.remote.get(m.id)?.delete(from)) this.event(m.id, 'peer-left', this.peerInfo(m.id, from));
    this.emit('changed', {});
  }

  /** @param {string} from @param {any} m */
  onMsg(from, m) {
    if (!m || typeof m.id !== 'string') return;
    const r = this.running.get(m.id);
    // Only to a plugin that runs here with `messages`, from a peer that runs it.
    if (!r || !r.granted.includes('messages') || !this.remote.get(m.id)?.has(from)) return;
    if (jsonBytes(m.data) < 0 || jsonBytes(m.data) > MAX_DATA) return;
    this.counters.received += 1;
    this.event(m.id, 'message', { from, data: m.data });
  }

  /** @param {string} id @param {string} event @param {unknown} data */
  event(id, event, data) {
    const r = this.running.get(id);
    if (!r?.port) return;
    if ((event === 'peer-joined' || event === 'peer-left') && !r.granted.includes('peers')) return;
    r.port.postMessage({ event, data });
  }

  /**
   * One request from a plugin's port: checked, then answered.
   * @param {string} id @param {unknown} msg
   */
  request(id, msg) {
    const r = this.running.get(id);
    if (!r?.port) return;
    const port = r.port;
    const m = /** @type {{id?: unknown, method?: unknown, params?: unknown}} */ (msg && typeof msg === 'object' ? msg : {});
    const rid = typeof m.id === 'number' || typeof m.id === 'string' ? m.id : null;
    /** @param {string} code @param {string} message */
    const error = (code, message) => {
      this.counters.refused += 1;
      this.emit('refused', { id, method: String(m.method ?? ''), code });
      port.postMessage({ id: rid, error: { code, message } });
    };
    /** @param {unknown} result */
    const ok = (result) => port.postMessage({ id: rid, result });
    // A plugin that floods is slowed down, never allowed to flood peers.
    const now = performance.now();
    r.tokens = Math.min(BURST, r.tokens + ((now - r.refill) * RATE) / 1000);
    r.refill = now;
    if (r.tokens < 1) return error('bad-request', 'too many requests: at most 50 a second');
    r.tokens -= 1;
    if (rid === null || typeof m.method !== 'string') return error('bad-request', 'a request is {id, method, params}');
    const params = /** @type {Record<string, unknown>} */ (m.params && typeof m.params === 'object' ? m.params : {});
    const need = { send: 'messages', peers: 'peers', 'storage.get': 'storage', 'storage.set': 'storage' }[m.method];
    if (!need) return error('bad-request', `no method ${m.method.slice(0, 40)}`);
    if (!r.granted.includes(need)) return error('forbidden', `${m.method} needs the ${need} permission`);
    switch (m.method) {
      case 'send': {
        const size = jsonBytes(params.data);
        if (size < 0 || params.data === undefined) return error('bad-request', 'data must be JSON');
        if (size > MAX_DATA) return error('too-large', `data is ${size} bytes; at most ${MAX_DATA}`);
        const runners = this.runners(id);
        if (params.to !== undefined && (typeof params.to !== 'string' || !runners.includes(params.to))) {
          return error('bad-request', 'to must be the id of a peer that runs this plugin');
        }
        const to = params.to !== undefined ? [/** @type {string} */ (params.to)] : runners;
        let n = 0;
        for (const t of to) if (this.link.send(t, { t: 'plugin-msg', id, data: params.data })) n += 1;
        this.counters.sent += n;
        return ok({ sent: n });
      }
      case 'peers':
        return ok(this.runners(id).map((t) => this.peerInfo(id, t)));
      case 'storage.get': {
        if (typeof params.key !== 'string' || params.key.length > MAX_KEY) return error('bad-request', 'key must be a string');
        const store = this.store(id);
        return ok(Object.hasOwn(store, params.key) ? store[params.key] : null);
      }
      case 'storage.set': {
        if (typeof params.key !== 'string' || params.key.length > MAX_KEY) return error('bad-request', 'key must be a string');
        if (params.value !== undefined && params.value !== null && jsonBytes(params.value) < 0) return error('bad-request', 'value must be JSON');
        const store = this.store(id);
        if (params.value === undefined || params.value === null) delete store[params.key];
        else store[params.key] = params.value;
        if (jsonBytes(store) > MAX_STORE) return error('too-large', `a plugin keeps at most ${MAX_STORE} bytes`);
        if (!writeJSON(`xroom.plugin.${id}`, store, this.storage)) return error('too-large', 'this browser refused to store it');
        return ok(true);
      }
      default:
        return error('bad-request', 'unknown method');
    }
  }

  /** A plugin's store. @param {string} id @returns {Record<string, unknown>} */
  store(id) {
    return readObject(`xroom.plugin.${id}`, this.storage);
  }

  /** For tests: ids and counts. */
  snapshot() {
    return {
      available: [...this.available.keys()],
      running: [...this.running.keys()],
      remote: Object.fromEntries([...this.remote].map(([id, m]) => [id, [...m.keys()]])),
      declined: [...this.declined],
      counters: { ...this.counters },
    };
  }

  close() {
    for (const id of [...this.running.keys()]) this.stop(id);
    this.remote.clear();
  }
}
