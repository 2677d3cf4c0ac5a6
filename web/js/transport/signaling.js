// @ts-check
// signaling.js: the WebSocket to xroomd. Joins the room of the link with
// the auth derived from its secret, relays signals sealed and opened by a
// codec (e2ee/signal-codec.js: end to end, bound to both peer ids), keeps
// the socket alive with pings, and reconnects with exponential backoff and
// jitter. Callers see typed events, never the socket. No DOM.

import { Emitter } from '../util/emitter.js';

/** @typedef {import('./wire.js').Message} Message */
/**
 * Seals a message from our peer id to another's, and opens one sent to us;
 * null for anything refused.
 * @typedef {{
 *   seal: (from: string, to: string, msg: Message) => Promise<unknown>,
 *   open: (from: string, to: string, data: unknown) => Promise<Message | null>,
 * }} Codec
 */

/** Reconnect delays: BASE_MS * 2^attempt, capped at CAP_MS, "equal jitter". */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 10_000;
/** An application ping every PING_MS; no pong within PONG_TIMEOUT_MS drops the socket. */
export const PING_MS = 15_000;
export const PONG_TIMEOUT_MS = 10_000;
/** A socket that has not opened and joined within this is dropped and retried. */
export const CONNECT_TIMEOUT_MS = 10_000;
/**
 * Outgoing signals are paced by a token bucket below the daemon's default
 * rate limit (50 a second, bursts of 200), so that a join into a full room
 * (offers and candidates to everyone at once) is slowed, never dropped.
 */
export const PACE_PER_SECOND = 40;
/** Farewells are sealed again after this many signals (well inside the 256-counter replay window). */
export const FAREWELL_RESEAL = 100;
export const PACE_BURST = 150;

/** A token bucket: `take()` resolves when a token is free. */
export class Pacer {
  /**
   * @param {number} perSecond
   * @param {number} burst
   * @param {() => number} [now]  milliseconds
   */
  constructor(perSecond, burst, now = () => performance.now()) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.now = now;
    this.tokens = burst;
    this.at = now();
  }

  /** Milliseconds to wait before the next message may go (0: now); takes the token. */
  reserve() {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.at) / 1000) * this.perSecond);
    this.at = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.perSecond) * 1000);
  }

  /** @returns {Promise<void>} */
  async take() {
    const wait = this.reserve();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/**
 * The wait before reconnect attempt `attempt` (0 for the first): half of
 * the exponential delay fixed, the other half random, so that clients
 * dropped together (a daemon restart) do not come back together, and no
 * retry follows its failure too closely.
 * @param {number} attempt
 * @param {() => number} [random]  uniform in [0, 1)
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, random = Math.random) {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Error codes that end the session for good: no reconnect. */
export const TERMINAL = new Set(['kicked', 'room-closed', 'room-expired', 'bad-room']);
/** Error codes that refuse a join; they end the session only before the first welcome. */
export const REFUSALS = new Set(['room-full', 'forbidden', 'server-busy', 'room-locked']);

/**
 * @typedef {'idle' | 'connecting' | 'joined' | 'reconnecting' | 'closed'} SignalingState
 * @typedef {{id: string, peers: string[], iceServers: RTCIceServer[], maxPeers: number,
 *   title: string, rejoin: boolean}} Welcome
 * @typedef {{
 *   state: {state: SignalingState, retryInMs: number, attempt: number},
 *   welcome: Welcome,
 *   'peer-joined': {id: string},
 *   'peer-left': {id: string},
 *   signal: {from: string, msg: Message},
 *   refused: {code: string, message: string, final: boolean},
 *   error: {code: string, message: string},
 * }} SignalingEvents
 */

/** @extends {Emitter<SignalingEvents>} */
export class Signaling extends Emitter {
  /**
   * @param {{url: string, auth: string, codec: Codec, WebSocketImpl?: typeof WebSocket}} opts
   *   url: ws(s)://host/ws/<room-id>; auth: the join auth (never the secret);
   *   codec: seals and opens signal payloads
   */
  constructor(opts) {
    super();
    this.url = opts.url;
    this.auth = opts.auth;
    this.codec = opts.codec;
    this.WS = opts.WebSocketImpl ?? WebSocket;
    /** @type {SignalingState} */
    this.state = 'idle';
    /** own peer id while joined */
    this.id = '';
    this.attempt = 0;
    this.everJoined = false;
    /** bumped for every socket; a queued send for an older socket is dropped */
    this.epoch = 0;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retryTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.connectTimer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.pingTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.pongTimer = undefined;
    this.pingSeq = 0;
    /** Outgoing and incoming work, each kept in order (sealing is async). */
    /** @type {Promise<void>} */
    this.outChain = Promise.resolve();
    /** @type {Promise<void>} */
    this.inChain = Promise.resolve();
    this.pacer = new Pacer(PACE_PER_SECOND, PACE_BURST);
    /**
     * Goodbyes sealed ahead of time, one per peer id, so that closing the
     * tab (no time for async sealing) still says goodbye.
     * @type {Map<string, {msg: Message, data: unknown, epoch: number}>}
     */
    this.farewells = new Map();
    /** signals sent since the farewells were sealed (their counters age) */
    this.sentSinceFarewells = 0;
    this.onOnline = () => { if (this.state === 'reconnecting') this.retryNow(); };
    /** quiet rejoins for fresh credentials (renew) */
    this.renewals = 0;
  }

  /** Opens the socket and joins; reconnects by itself until close(). */
  start() {
    if (this.state !== 'idle') return;
    globalThis.addEventListener?.('online', this.onOnline);
    this.connect();
  }

  get joined() { return this.state === 'joined'; }

  /**
   * Joins again on a new socket now, quietly (no 'reconnecting' state: the
   * call is not interrupted, only our peer id changes): the way to fresh
   * TURN credentials, which only `welcome` hands out.
   */
  renew() {
    if (this.state !== 'joined' || !this.ws) return;
    const ws = this.ws;
    this.stopTimers();
    this.ws = null;
    this.epoch += 1; // the old socket's close event is ignored
    try { ws.close(1000); } catch { /* already closing */ }
    this.renewals += 1;
    this.connect();
  }

  /** Skip the current backoff wait (the browser came back online, a button). */
  retryNow() {
    if (this.state !== 'reconnecting' || this.ws) return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  /**
   * Sends `msg` to peer `to` through the room, sealed by the codec for our
   * current peer id and `to`. Dropped when not joined, or when the socket
   * changed before it was sealed (the peer ids would be stale); the mesh
   * recovers from lost signals itself.
   * @param {string} to
   * @param {Message} msg
   */
  send(to, msg) {
    const epoch = this.epoch;
    this.outChain = this.outChain.then(async () => {
      if (epoch !== this.epoch || this.state !== 'joined' || !this.ws) return;
      const data = await this.codec.seal(this.id, to, msg);
      if (epoch !== this.epoch || this.state !== 'joined' || !this.ws) return;
      await this.pacer.take();
      if (epoch !== this.epoch || this.state !== 'joined' || !this.ws) return;
      this.ws.send(JSON.stringify({ type: 'signal', to, data }));
      // A farewell's counter must stay inside the receiver's replay window.
      if (++this.sentSinceFarewells > FAREWELL_RESEAL) {
        this.sentSinceFarewells = 0;
        for (const peer of this.farewells.keys()) this.sealFarewell(peer);
      }
    }).catch((e) => console.warn('xroom: signal not sent', e));
  }

  /**
   * Seals `msg` (a goodbye) for peer `to` now, to be sent at once by
   * sendFarewell() when the page goes away.
   * @param {string} to
   * @param {Message} msg
   */
  prepareFarewell(to, msg) {
    this.farewells.set(to, { msg, data: null, epoch: -1 });
    this.sealFarewell(to);
  }

  /** @param {string} to */
  sealFarewell(to) {
    const f = this.farewells.get(to);
    const epoch = this.epoch;
    if (!f || this.state !== 'joined') return;
    this.codec.seal(this.id, to, f.msg).then((data) => {
      if (this.farewells.get(to) !== f || epoch !== this.epoch) return;
      f.data = data;
      f.epoch = epoch;
    }, (e) => console.warn('xroom: farewell not sealed', e));
  }

  /**
   * Sends the goodbye sealed for `to`, synchronously. False when there is
   * none ready (the caller sends one the ordinary way).
   * @param {string} to
   */
  sendFarewell(to) {
    const f = this.farewells.get(to);
    if (!f || f.data === null || f.epoch !== this.epoch || this.state !== 'joined' || !this.ws) return false;
    try {
      this.ws.send(JSON.stringify({ type: 'signal', to, data: f.data }));
    } catch {
      return false;
    }
    this.farewells.delete(to);
    return true;
  }

  /**
   * Leaves the room (the server tells the others) and stops for good.
   * Signals queued before go out first.
   * @returns {Promise<void>}
   */
  async leave() {
    if (this.state === 'closed') return;
    await this.outChain;
    if (this.ws && this.state === 'joined') {
      try { this.ws.send(JSON.stringify({ type: 'leave' })); } catch { /* closing anyway */ }
    }
    this.close();
  }

  /** Stops without a leave message (the server sees the socket close). */
  close() {
    this.setState('closed');
    globalThis.removeEventListener?.('online', this.onOnline);
    clearTimeout(this.retryTimer);
    this.dropSocket(1000);
  }

  /** @param {SignalingState} state @param {number} [retryInMs] */
  setState(state, retryInMs = 0) {
    this.state = state;
    this.emit('state', { state, retryInMs, attempt: this.attempt });
  }

  connect() {
    this.retryTimer = undefined;
    this.epoch += 1;
    const epoch = this.epoch;
    if (!this.everJoined) this.setState('connecting');
    let ws;
    try {
      ws = new this.WS(this.url, 'xroom.v1');
    } catch (e) {
      console.warn('xroom: cannot open the signaling socket', e);
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.connectTimer = setTimeout(() => {
      if (epoch === this.epoch && this.state !== 'joined') this.dropSocket(4000);
    }, CONNECT_TIMEOUT_MS);
    ws.addEventListener('open', () => {
      if (epoch !== this.epoch) return;
      ws.send(JSON.stringify(this.auth ? { type: 'join', auth: this.auth } : { type: 'join' }));
    });
    ws.addEventListener('message', (ev) => {
      if (epoch !== this.epoch) return;
      let msg;
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (typeof msg === 'object' && msg !== null) this.onMessage(msg, epoch);
    });
    ws.addEventListener('close', () => {
      if (epoch !== this.epoch) return;
      this.ws = null;
      this.stopTimers();
      if (this.state !== 'closed') this.scheduleReconnect();
    });
  }

  /** @param {Record<string, any>} msg @param {number} epoch */
  onMessage(msg, epoch) {
    switch (msg.type) {
      case 'welcome': {
        if (typeof msg.id !== 'string' || !Array.isArray(msg.peers)) return;
        clearTimeout(this.connectTimer);
        this.farewells.clear(); // sealed for old peer ids
        const rejoin = this.everJoined;
        this.everJoined = true;
        this.attempt = 0;
        this.id = msg.id;
        this.setState('joined');
        this.startPings(epoch);
        /** @type {Welcome} */
        const w = {
          id: msg.id,
          peers: msg.peers.filter((/** @type {unknown} */ p) => typeof p === 'string'),
          iceServers: Array.isArray(msg.iceServers) ? msg.iceServers : [],
          maxPeers: typeof msg.maxPeers === 'number' ? msg.maxPeers : 0,
          title: typeof msg.title === 'string' ? msg.title : '',
          rejoin,
        };
        this.queueIn(() => this.emit('welcome', w));
        break;
      }
      case 'peer-joined':
      case 'peer-left':
        if (typeof msg.id === 'string') {
          const type = /** @type {'peer-joined' | 'peer-left'} */ (msg.type);
          const id = msg.id;
          this.queueIn(() => this.emit(type, { id }));
        }
        break;
      case 'signal': {
        if (typeof msg.from !== 'string') return;
        const from = msg.from;
        const data = msg.data;
        const self = this.id;
        this.inChain = this.inChain
          .then(() => this.codec.open(from, self, data))
          .then((m) => { if (m && epoch === this.epoch) this.emit('signal', { from, msg: m }); })
          .catch((e) => console.warn('xroom: signal dropped', e));
        break;
      }
      case 'pong':
        clearTimeout(this.pongTimer);
        break;
      case 'error':
        this.onError(String(msg.code ?? ''), String(msg.message ?? ''));
        break;
      default:
        break;
    }
  }

  /** @param {() => void} fn  runs after every signal received before it */
  queueIn(fn) {
    this.inChain = this.inChain.then(fn);
  }

  /** @param {string} code @param {string} message */
  onError(code, message) {
    if (TERMINAL.has(code) || (REFUSALS.has(code) && !this.everJoined)) {
      this.close();
      this.emit('refused', { code, message, final: true });
    } else if (REFUSALS.has(code)) {
      // A rejoin refused (the room filled up meanwhile, the server is
      // busy): media keeps flowing peer to peer; keep trying.
      this.emit('refused', { code, message, final: false });
    } else {
      this.emit('error', { code, message });
    }
  }

  /** @param {number} epoch */
  startPings(epoch) {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (epoch !== this.epoch || !this.ws) return;
      this.pingSeq += 1;
      try {
        this.ws.send(JSON.stringify({ type: 'ping', id: this.pingSeq }));
      } catch {
        return;
      }
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => {
        if (epoch === this.epoch) this.dropSocket(4001);
      }, PONG_TIMEOUT_MS);
    }, PING_MS);
  }

  stopTimers() {
    clearTimeout(this.connectTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  /** @param {number} code */
  dropSocket(code) {
    this.stopTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try { ws.close(code); } catch { /* already closing */ }
      if (this.state !== 'closed') {
        // The close event of an abandoned socket is ignored (epoch), so
        // schedule the retry here.
        this.epoch += 1;
        this.scheduleReconnect();
      }
    }
  }

  scheduleReconnect() {
    if (this.state === 'closed' || this.retryTimer !== undefined) return;
    const wait = backoffDelay(this.attempt);
    this.attempt += 1;
    this.setState('reconnecting', wait);
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }
}

/**
 * When the TURN credentials of `iceServers` expire: coturn's REST scheme
 * puts the expiry (Unix seconds) before the colon of the username. The
 * earliest, in ms; 0 when there is none.
 * @param {RTCIceServer[]} iceServers
 */
export function turnExpiry(iceServers) {
  let first = 0;
  for (const s of iceServers) {
    const m = typeof s.username === 'string' ? /^(\d{9,12}):/.exec(s.username) : null;
    if (m) first = first ? Math.min(first, Number(m[1]) * 1000) : Number(m[1]) * 1000;
  }
  return first;
}

/** The earliest a credential refresh comes after a welcome. */
export const MIN_RENEW_MS = 30_000;

/**
 * How long after a welcome to rejoin for fresh TURN credentials, so that
 * an ICE restart or a rebuild never has to use expired ones (a relay in
 * use keeps working: coturn checks the credential when an allocation is
 * made): a fifth of what is left before the expiry, at most 5 min, ahead
 * of it, and never sooner than MIN_RENEW_MS. 0 (never) when there is no
 * expiry, or when it has passed by our clock (a clock that far off would
 * rejoin in a loop).
 * @param {number} expiry  ms, turnExpiry
 * @param {number} now  ms, Date.now()
 */
export function renewDelay(expiry, now) {
  const left = expiry - now;
  if (!expiry || left <= MIN_RENEW_MS) return 0;
  return Math.max(MIN_RENEW_MS, left - Math.min(5 * 60_000, left / 5));
}
