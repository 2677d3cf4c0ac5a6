// @ts-check
// sync.js: how a plugin that starts late gets the room's current state.
// It says `hello` to everyone; each copy of the plugin already running
// answers `here` (and tells it the id it has in the room); the newcomer
// waits a moment, asks ONE of them (the smallest id, so the choice does not
// depend on timing) with `sync`, and receives the state as `snap` chunks of
// at most CHUNK_BYTES, the last one marked. No answer in time: the next one;
// none left: all of them again, each round waiting twice as long (a slow
// machine or link is not a reason to stay empty), and a late answer from
// one asked before still counts (merging is idempotent).
// Shared by the bundled plugins from /plugins/_shared/.

const CHUNK_BYTES = 12000;     // a chunk's records, as JSON; `send` allows 16 KiB
const GATHER_MS = 300;         // wait this long after the first `here`
const CHUNK_TIMEOUT_MS = 5000; // a chunk must come within this, or ask another
const RETRY_CAP_MS = 60000;    // the longest wait of a later round
const PACE_AFTER = 20;         // chunks sent at once; then one every PACE_MS
const PACE_MS = 40;            // (the app allows a plugin 50 requests a second)
const ID_MAX = 256;

/** @param {unknown} v @returns {v is string} */
export function isPeerId(v) {
  return typeof v === 'string' && v.length > 0 && v.length <= ID_MAX;
}

/** @param {unknown} v */
function bytes(v) {
  return new TextEncoder().encode(JSON.stringify(v)).length;
}

/**
 * Splits records into arrays whose JSON stays under CHUNK_BYTES (a record
 * larger than that alone is dropped: the plugins never make one).
 * @param {object[]} records
 * @returns {object[][]}
 */
export function chunk(records) {
  /** @type {object[][]} */
  const out = [];
  let cur = [];
  let size = 2;
  for (const r of records) {
    const n = bytes(r) + 1;
    if (n + 2 > CHUNK_BYTES) continue;
    if (size + n > CHUNK_BYTES) {
      out.push(cur);
      cur = [];
      size = 2;
    }
    cur.push(r);
    size += n;
  }
  out.push(cur);
  return out;
}

/**
 * @typedef {object} SyncOptions
 * @property {(data: object, to?: string) => Promise<boolean>} send  resolves false when not sent
 * @property {() => object[]} snapshot  the current state, as records
 * @property {(records: unknown[], from: string) => void} apply  merges a chunk (idempotent)
 * @property {(id: string) => void} [onSelf]  our id in the room, once a peer has told us
 * @property {() => void} [onSynced]
 */

export class Sync {
  /** @param {SyncOptions} opts */
  constructor(opts) {
    this.opts = opts;
    /** Our id as the other peers see it, once one of them has said it. */
    /** @type {string | null} */
    this.self = null;
    /** Peers that answered our hello, not yet asked. */
    /** @type {Set<string>} */
    this.candidates = new Set();
    /** @type {Set<string>} */
    this.tried = new Set();
    /** The peer we asked for the state, while its chunks come. */
    /** @type {string | null} */
    this.source = null;
    this.synced = false;
    /** @type {number | undefined} */
    this.timer = undefined;
    /** Peers we are sending the state to (one at a time each). */
    /** @type {Set<string>} */
    this.serving = new Set();
    /** Rounds through every candidate so far without a whole state. */
    this.round = 0;
    /** Every peer asked so far (and still here): its answer counts, late or not. */
    /** @type {Set<string>} */
    this.asked = new Set();
  }

  /**
   * Wires the bridge's events: sync messages are handled here, any other
   * well-formed one goes to `onMessage`; `onJoined` sees a peer that
   * started the plugin before we greet it, `onLeft` one that left after
   * we stop waiting for it.
   * @param {{on: (event: string, fn: (v: any) => void) => void}} bridge
   * @param {{onMessage: (from: string, data: any) => void, onJoined?: (p: any) => void,
   *   onLeft?: (id: string) => void}} h
   */
  listen(bridge, h) {
    bridge.on('message', (m) => {
      if (!m || !isPeerId(m.from) || !m.data || typeof m.data !== 'object' ||
          typeof m.data.t !== 'string') return;
      if (!this.handle(m.from, m.data)) h.onMessage(m.from, m.data);
    });
    bridge.on('peer-joined', (p) => {
      h.onJoined?.(p);
      if (p && isPeerId(p.id)) this.joined(p.id);
    });
    bridge.on('peer-left', (p) => {
      if (!p || !isPeerId(p.id)) return;
      this.left(p.id);
      h.onLeft?.(p.id);
    });
  }

  /** Says hello to the room; call once the bridge is ready. */
  start() {
    this.opts.send({ t: 'hello' });
  }

  /**
   * Handles the sync messages; returns false for any other message.
   * @param {string} from
   * @param {any} d  a plain object with a string `t`
   */
  handle(from, d) {
    switch (d.t) {
      case 'hello':
        this.opts.send({ t: 'here', you: from }, from);
        return true;
      case 'here':
        this.learnSelf(d.you);
        this.opts.send({ t: 'hi', you: from }, from);
        if (!this.synced && !this.tried.has(from)) {
          this.candidates.add(from);
          if (!this.source && this.timer === undefined)
            this.timer = window.setTimeout(() => this.ask(), GATHER_MS);
        }
        return true;
      case 'hi':
        this.learnSelf(d.you);
        return true;
      case 'sync':
        this.learnSelf(d.you);
        this.serve(from);
        return true;
      case 'snap':
        // From the one asked now, or a late answer from one asked before:
        // chunks come in order on one channel, so its last one means we
        // have applied all of its state.
        if (this.synced || !this.asked.has(from) ||
            !Array.isArray(d.r) || typeof d.last !== 'boolean') return true;
        this.opts.apply(d.r, from);
        if (d.last) {
          clearTimeout(this.timer);
          this.timer = undefined;
          this.source = null;
          this.synced = true;
          this.candidates.clear();
          this.opts.onSynced?.();
        } else if (from === this.source) {
          clearTimeout(this.timer);
          this.timer = window.setTimeout(() => this.ask(), this.wait());
        }
        return true;
      default:
        return false;
    }
  }

  /**
   * A peer started this plugin. While we have no state from anyone, say
   * hello to it too: our first hello may have gone out before the app knew
   * who runs the plugin.
   * @param {string} id
   */
  joined(id) {
    if (!this.synced && !this.source && !this.tried.has(id))
      this.opts.send({ t: 'hello' }, id);
  }

  /** A peer left: do not wait for it. */
  /** @param {string} id */
  left(id) {
    this.candidates.delete(id);
    this.tried.delete(id);
    this.asked.delete(id);
    if (this.source === id) {
      clearTimeout(this.timer);
      this.ask();
    }
  }

  /** @param {unknown} id */
  learnSelf(id) {
    if (this.self !== null || !isPeerId(id)) return;
    this.self = id;
    this.opts.onSelf?.(id);
  }

  /** How long a chunk may take in this round. */
  wait() {
    return Math.min(RETRY_CAP_MS, CHUNK_TIMEOUT_MS * 2 ** this.round);
  }

  /**
   * Asks the smallest-id candidate not yet tried for the whole state; when
   * every one has been tried, starts a new round with all of them still
   * here (left() forgets those who went), each waited for longer.
   */
  ask() {
    this.timer = undefined;
    this.source = null;
    if (this.synced) return;
    if (this.candidates.size === 0 && this.tried.size > 0) {
      this.candidates = new Set(this.tried);
      this.tried.clear();
      this.round += 1;
    }
    const next = [...this.candidates].sort()[0];
    if (next === undefined) return;
    this.candidates.delete(next);
    this.tried.add(next);
    this.asked.add(next);
    this.source = next;
    this.opts.send({ t: 'sync', you: next }, next);
    this.timer = window.setTimeout(() => this.ask(), this.wait());
  }

  /** @param {string} to */
  async serve(to) {
    if (this.serving.has(to)) return;
    this.serving.add(to);
    try {
      const parts = chunk(this.opts.snapshot());
      for (let i = 0; i < parts.length; i++) {
        if (i >= PACE_AFTER) await new Promise((ok) => setTimeout(ok, PACE_MS));
        // Not sent: it left, or the app refused; it will ask another.
        if (!(await this.opts.send({ t: 'snap', r: parts[i], last: i === parts.length - 1 }, to))) break;
      }
    } finally {
      this.serving.delete(to);
    }
  }
}
