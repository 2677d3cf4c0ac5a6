// @ts-check
// tiles.js: the call grid. One tile per person (ours first): video, or an
// avatar with initials when the camera is off or no frame arrives; name,
// muted icon, connection badge, speaking ring; on remote tiles the lock
// and the safety code of the pair. The grid picks the column count that
// gives the largest 16:9 tiles (tileGeometry) and follows the window.
// Everything a tile says is also in its aria-label.

import { h } from './dom.js';
import { guestName } from '../util/text.js';

/** @typedef {import('../call/stats.js').Badge} Badge */
/** @typedef {import('../e2ee/keys.js').Lock} Lock */

export const BADGE_TEXT = Object.freeze({
  connecting: 'connecting',
  direct: 'direct',
  relayed: 'relayed',
  reconnecting: 'reconnecting',
  failed: 'failed',
});

const BADGE_HELP = Object.freeze({
  connecting: 'Connecting to this person',
  direct: 'Connected directly, browser to browser',
  relayed: 'Connected through a relay server (still encrypted)',
  reconnecting: 'The connection was interrupted; reconnecting',
  failed: 'No connection to this person',
});

/** What the lock on a tile says, by state. */
export const LOCK_TEXT = Object.freeze({
  pending: 'setting up encryption',
  secure: 'encrypted',
  alert: 'encryption problem',
});

/** What a failed tile says, by cause. */
const FAILED_NOTE = Object.freeze({
  '': 'No connection to this person yet. Retrying…',
  turn: 'Could not connect through the relay (TURN) server: it did not answer or refused this call. ' +
    'Your address stays hidden; switch off “hide my address” to try a direct connection.',
});

/**
 * The lock's tooltip.
 * @param {Lock} lock
 * @param {string} name
 * @param {string} safety
 */
function lockHelp(lock, name, safety) {
  if (lock === 'alert') {
    return `Encryption problem with ${name}: what fails to encrypt or decrypt is dropped, never sent or shown. ` +
      'If this lasts, leave and rejoin.';
  }
  if (lock === 'pending') return `Exchanging keys with ${name}. Nothing is sent or shown unencrypted meanwhile.`;
  return `Encrypted end to end with ${name}; keys current. Safety code ${safety || '(pending)'}: ` +
    `${name} sees the same code on your tile. Compare it aloud; if both match, nobody is in the middle.`;
}

/**
 * Initials for an avatar: up to two letters of the name.
 * @param {string} name
 */
export function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = [...words[0]][0] ?? '';
  const last = words.length > 1 ? [...words[words.length - 1]][0] ?? '' : '';
  return (first + last).toUpperCase();
}

/**
 * The grid's geometry: how many columns, and how wide each 16:9 tile can
 * be, so that `n` tiles fill a w x h box best.
 * @param {number} n
 * @param {number} w
 * @param {number} h
 * @param {number} gap
 * @returns {{cols: number, width: number}}
 */
export function tileGeometry(n, w, h, gap) {
  let best = { cols: 1, width: 0 };
  const count = Math.max(1, n);
  for (let cols = 1; cols <= count; cols++) {
    const rows = Math.ceil(count / cols);
    const byWidth = (w - gap * (cols - 1)) / cols;
    const byHeight = ((h - gap * (rows - 1)) / rows) * 16 / 9;
    const width = Math.max(0, Math.min(byWidth, byHeight));
    if (width >= best.width - 0.5) best = { cols, width }; // ties: side by side
  }
  return best;
}

/**
 * The spotlight: one large 16:9 tile above a strip of `others` small ones
 * (a fifth of the height, 72 to 140 px, narrower if they do not fit side
 * by side). Widths in px.
 * @param {number} others
 * @param {number} w
 * @param {number} h
 * @param {number} gap
 */
export function spotlightGeometry(others, w, h, gap) {
  const stripH = Math.min(140, Math.max(72, h / 5));
  const small = Math.max(0, Math.min(stripH * 16 / 9, (w - gap * (others - 1)) / Math.max(1, others)));
  const big = tileGeometry(1, w, h - small * 9 / 16 - gap, gap).width;
  return { big, small };
}

/** A stable colour index (0-7) from an id. @param {string} id */
function hue(id) {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % 8;
}

/**
 * An icon of the page's sprite.
 * @param {string} symbol
 * @param {string} [cls]
 */
function icon(symbol, cls = 'icon') {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS(ns, 'use');
  use.setAttribute('href', `#${symbol}`);
  svg.append(use);
  return svg;
}

/**
 * @typedef {{name: string, mic: boolean, cam: boolean, screen: boolean, badge?: Badge, lock?: Lock, safety?: string,
 *   problem?: '' | 'turn'}} TileInfo
 * @typedef {{el: HTMLElement, video: HTMLVideoElement, avatar: HTMLElement, name: HTMLElement,
 *   badge: HTMLElement, note: HTMLElement, sec: HTMLElement | null, code: HTMLElement | null, self: boolean, info: TileInfo,
 *   videoLive: boolean, stream: MediaStream | null, unwatch: () => void, id: string,
 *   pin: HTMLButtonElement, full: HTMLButtonElement, hand: HTMLElement}} Tile
 */

/** The tiles of the call, by tab id ('self' for ours). */
export class TileGrid {
  /**
   * @param {HTMLElement} grid  where the tiles go
   * @param {HTMLElement} count  says how many people are in the call
   * @param {(text: string) => void} announce  for screen readers
   */
  constructor(grid, count, announce) {
    this.grid = grid;
    this.count = count;
    this.announce = announce;
    /** @type {Map<string, Tile>} */
    this.tiles = new Map();
    /** @type {string | undefined} the chosen speaker (setSink), undefined: the browser's */
    this.sinkId = undefined;
    /** @type {string | null} the enlarged tile (spotlight), if any */
    this.pinned = null;
    /** whether the spotlight follows a screen share (true) or the person chose it */
    this.pinnedBySharing = false;
    new ResizeObserver(() => this.fit()).observe(grid);
  }

  /** @param {string} id */
  get(id) {
    return this.tiles.get(id);
  }

  get size() {
    return this.tiles.size;
  }

  /**
   * @param {string} id  tab id ('self' for ours)
   * @param {boolean} self
   */
  add(id, self) {
    if (this.tiles.has(id)) return;
    const el = h('div', { class: `tile hue-${hue(id)}` });
    el.setAttribute('role', 'listitem');
    el.dataset.tab = id;
    if (self) el.dataset.self = '';
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = self;
    video.setAttribute('aria-hidden', 'true');
    const off = h('div', { class: 'tile-off' });
    const avatar = h('span', { class: 'avatar' });
    avatar.setAttribute('aria-hidden', 'true');
    // Why there is no picture, when the connection itself failed.
    const note = h('p', { class: 'tile-note' });
    note.hidden = true;
    off.append(avatar, note);
    const info = h('div', { class: 'tile-info' });
    const mic = h('span', { class: 'tile-mic' });
    mic.append(icon('i-mic-off'));
    const name = h('span', { class: 'tile-name' });
    const badge = h('span', { class: 'badge' });
    info.append(mic, name, badge);
    el.append(video, off, info);
    // Enlarge (spotlight) and full screen; a double click enlarges too.
    const tools = h('div', { class: 'tile-tools' });
    const pin = h('button', { class: 'tile-tool', attrs: { type: 'button', 'aria-pressed': 'false' } }, [icon('i-pin')]);
    const full = h('button', { class: 'tile-tool', attrs: { type: 'button' } }, [icon('i-full')]);
    pin.addEventListener('click', () => this.pin(this.pinned === id ? null : id));
    full.addEventListener('click', () => this.fullscreen(id));
    el.addEventListener('dblclick', () => this.pin(this.pinned === id ? null : id));
    tools.append(pin, full);
    const hand = h('span', { class: 'tile-hand', text: '✋', attrs: { 'aria-hidden': 'true' } });
    hand.hidden = true;
    el.append(tools, hand);
    /** @type {HTMLElement | null} */
    let sec = null;
    /** @type {HTMLElement | null} */
    let code = null;
    if (!self) {
      // The lock and the safety code of this pair: compared aloud, the
      // same on both screens when nobody is in the middle.
      sec = h('span', { class: 'tile-sec' });
      sec.setAttribute('aria-hidden', 'true'); // the tile's label says it
      sec.append(icon('i-lock', 'icon on'), icon('i-lock-open', 'icon off'));
      code = h('span', { class: 'tile-sec-code' });
      sec.append(code);
      el.append(sec);
    }
    /** @type {Tile} */
    const tile = {
      el, video, avatar, name, badge, note, sec, code, self, id, pin, full, hand, stream: null, videoLive: false, unwatch: () => {},
      info: { name: '', mic: true, cam: true, screen: false, badge: self ? undefined : 'connecting', lock: self ? undefined : 'pending', safety: '' },
    };
    this.tiles.set(id, tile);
    if (!self) this.applySink(tile);
    if (self) this.grid.prepend(el); else this.grid.append(el);
    this.render(tile);
    this.layout();
  }

  /** @param {string} id */
  remove(id) {
    const t = this.tiles.get(id);
    if (!t) return;
    t.unwatch();
    t.video.srcObject = null;
    t.el.remove();
    this.tiles.delete(id);
    if (this.pinned === id) this.pin(null);
    this.layout();
  }

  /** Every tile goes. */
  clear() {
    for (const t of [...this.tiles.keys()]) this.remove(t);
  }

  /**
   * @param {string} id
   * @param {MediaStream | null} stream
   */
  setStream(id, stream) {
    const t = this.tiles.get(id);
    if (!t || t.stream === stream) return;
    t.unwatch();
    t.stream = stream;
    t.video.srcObject = stream;
    if (stream) t.video.play().catch(() => {});
    // A remote video track is muted while no frames arrive: show the
    // avatar instead of a frozen or black picture.
    const track = stream?.getVideoTracks()[0];
    const update = () => {
      t.videoLive = !!track && track.readyState === 'live' && !track.muted;
      this.render(t);
    };
    track?.addEventListener('mute', update);
    track?.addEventListener('unmute', update);
    track?.addEventListener('ended', update);
    t.unwatch = () => {
      track?.removeEventListener('mute', update);
      track?.removeEventListener('unmute', update);
      track?.removeEventListener('ended', update);
    };
    update();
  }

  /** @param {string} id @param {Partial<TileInfo>} info */
  update(id, info) {
    const t = this.tiles.get(id);
    if (!t) return;
    const before = t.info.name;
    const wasSharing = t.info.screen;
    t.info = { ...t.info, ...info };
    this.render(t);
    // Someone's shared screen takes the spotlight, unless the person here
    // enlarged someone; it gives it back when the sharing stops.
    if (!t.self && t.info.screen && !wasSharing && (!this.pinned || this.pinnedBySharing)) this.pin(id, true);
    else if (!t.info.screen && wasSharing && this.pinned === id && this.pinnedBySharing) this.pin(null);
    if (!t.self && before && info.name !== undefined && info.name !== before) {
      this.announce(`${before} is now called ${this.displayName(t)}`);
    }
  }

  /**
   * Everyone with a tile, ourselves first: name, connection and encryption
   * in words, and the safety code (for the list of people).
   * @returns {{name: string, self: boolean, connection: string, lock: string, safety: string}[]}
   */
  people() {
    return [...this.tiles.values()].sort((a, b) => Number(b.self) - Number(a.self)).map((t) => ({
      name: this.displayName(t),
      self: t.self,
      connection: t.self || !t.info.badge ? '' : BADGE_HELP[t.info.badge],
      lock: t.self || !t.info.lock ? '' : LOCK_TEXT[t.info.lock],
      safety: t.info.safety ?? '',
    }));
  }

  /**
   * Enlarges one tile (the others in a strip below it), or none: the grid
   * again. `bySharing`: chosen because that person shares a screen (undone
   * when they stop), not by the person here.
   * @param {string | null} id
   * @param {boolean} [bySharing]
   */
  pin(id, bySharing = false) {
    const t = id ? this.tiles.get(id) : undefined;
    this.pinned = t ? /** @type {string} */ (id) : null;
    this.pinnedBySharing = !!t && bySharing;
    for (const [tid, x] of this.tiles) {
      x.el.classList.toggle('pinned', tid === this.pinned);
      this.render(x);
    }
    if (this.pinned) this.grid.dataset.pinned = ''; else delete this.grid.dataset.pinned;
    this.fit();
    if (t && !bySharing) this.announce(`${this.displayName(t)} enlarged`);
  }

  /** A raised hand on a tile, or none. @param {string} id @param {boolean} up */
  setHand(id, up) {
    const t = this.tiles.get(id);
    if (!t) return;
    t.hand.hidden = !up;
    if (up) t.el.dataset.hand = ''; else delete t.el.dataset.hand;
    this.render(t);
  }

  /** A reaction floats up over a tile for a moment. @param {string} id @param {string} emoji */
  showReaction(id, emoji) {
    const t = this.tiles.get(id);
    if (!t) return;
    const r = h('span', { class: 'tile-reaction', text: emoji, attrs: { 'aria-hidden': 'true' } });
    t.el.append(r);
    setTimeout(() => r.remove(), 3000);
  }

  /** Shows a tile alone on the whole screen (Esc leaves). @param {string} id */
  fullscreen(id) {
    this.tiles.get(id)?.el.requestFullscreen?.().catch((e) => console.warn('xroom: no full screen', e));
  }

  /** @param {Tile} t */
  displayName(t) {
    if (t.self) return t.info.name ? `${t.info.name} (you)` : 'You';
    return t.info.name || guestName(t.id);
  }

  /**
   * Where the call's sound plays (setSinkId), on every tile now and later.
   * @param {string} id  an audio output device id ('' for the default)
   */
  setSink(id) {
    this.sinkId = id;
    for (const t of this.tiles.values()) if (!t.self) this.applySink(t);
  }

  /** @param {Tile} t */
  applySink(t) {
    const v = /** @type {HTMLVideoElement & {setSinkId?: (id: string) => Promise<void>}} */ (t.video);
    if (this.sinkId !== undefined && v.setSinkId) v.setSinkId(this.sinkId).catch((e) => console.warn('xroom: speaker not set', e));
  }

  /** @param {Tile} t */
  render(t) {
    const { info } = t;
    const showVideo = (info.cam || info.screen) && t.videoLive;
    t.el.dataset.mic = info.mic ? 'on' : 'off';
    t.el.dataset.cam = info.cam ? 'on' : 'off';
    t.el.dataset.screen = info.screen ? 'on' : 'off';
    t.el.dataset.video = showVideo ? 'on' : 'off';
    t.el.classList.toggle('mirror', t.self && info.cam && !info.screen);
    const name = this.displayName(t);
    t.name.textContent = name;
    const pinned = this.pinned === t.id;
    t.pin.setAttribute('aria-pressed', String(pinned));
    t.pin.setAttribute('aria-label', pinned ? 'Show everyone again' : `Enlarge ${name}`);
    t.pin.title = pinned ? 'Show everyone again (or double-click)' : `Enlarge ${name} (or double-click)`;
    t.full.setAttribute('aria-label', `Full screen: ${name}`);
    t.full.title = `${name} on the whole screen (Esc to leave)`;
    t.avatar.textContent = initials(info.name || (t.self ? 'You' : guestName(t.id)));
    if (info.badge) {
      t.badge.hidden = false;
      t.badge.dataset.badge = info.badge;
      t.badge.textContent = BADGE_TEXT[info.badge];
      t.badge.title = BADGE_HELP[info.badge];
      t.el.dataset.badge = info.badge;
    } else {
      t.badge.hidden = true;
    }
    const note = info.badge === 'failed' ? FAILED_NOTE[info.problem || ''] : '';
    t.note.hidden = !note;
    t.note.textContent = note;
    if (t.sec && t.code && info.lock) {
      t.sec.dataset.lock = info.lock;
      t.el.dataset.lock = info.lock;
      t.code.textContent = info.lock === 'secure' ? info.safety ?? '' : LOCK_TEXT[info.lock];
      t.sec.title = lockHelp(info.lock, t.info.name || 'this person', info.safety ?? '');
    }
    const parts = [name];
    if (!info.mic) parts.push('muted');
    if (t.el.dataset.hand !== undefined) parts.push('hand raised');
    if (info.screen) parts.push('sharing the screen');
    else if (!info.cam) parts.push('camera off');
    if (info.badge) parts.push(`connection ${BADGE_TEXT[info.badge]}`);
    if (info.lock) parts.push(info.lock === 'secure' && info.safety ? `encrypted, safety code ${info.safety}` : LOCK_TEXT[info.lock]);
    t.el.setAttribute('aria-label', parts.join(', '));
  }

  /** @param {string} id @param {boolean} speaking */
  setSpeaking(id, speaking) {
    const t = this.tiles.get(id);
    if (t && t.el.classList.contains('speaking') !== speaking) t.el.classList.toggle('speaking', speaking);
  }

  layout() {
    const n = this.tiles.size;
    this.grid.dataset.count = String(n);
    this.count.textContent = n === 1 ? '· only you so far' : `· ${n} people`;
    this.fit();
  }

  /**
   * Sizes the tiles to the largest 16:9 boxes that fit the grid (CSSOM,
   * which the CSP allows); with a tile enlarged, it takes what a strip of
   * the others below it leaves.
   */
  fit() {
    const g = this.grid;
    const cs = getComputedStyle(g);
    const w = g.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const h = g.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
    const gap = parseFloat(cs.columnGap) || 0;
    if (this.pinned && this.tiles.size > 1) {
      const s = spotlightGeometry(this.tiles.size - 1, w, h, gap);
      g.style.setProperty('--tile-w', `${Math.floor(s.small)}px`);
      g.style.setProperty('--pin-w', `${Math.floor(s.big)}px`);
      g.dataset.cols = '1';
      return;
    }
    const { width, cols } = tileGeometry(this.tiles.size, w, h, gap);
    g.style.setProperty('--tile-w', `${Math.floor(width)}px`);
    g.style.setProperty('--pin-w', `${Math.floor(width)}px`);
    g.dataset.cols = String(cols);
  }
}
