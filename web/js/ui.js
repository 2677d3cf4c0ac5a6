// @ts-check
// ui.js: every piece of DOM of the room page. The screens (loading,
// pre-join, call, messages), the tiles of the call grid, the controls and
// their keyboard shortcuts. It shows what it is told and reports what the
// user does as typed actions; it decides nothing about media or network.

import { Emitter } from './emitter.js';
import { byId as $ } from './dom.js';

/** @typedef {'connecting' | 'direct' | 'relayed' | 'reconnecting' | 'failed'} Badge */
/** @typedef {import('./e2ee.js').Lock} Lock */
/** @typedef {'loading' | 'prejoin' | 'call' | 'message'} ScreenName */
/**
 * @typedef {{
 *   join: {}, 'toggle-mic': {}, 'toggle-cam': {}, 'toggle-screen': {}, copy: {}, leave: {},
 *   retry: {}, alt: {}, 'select-camera': {id: string}, 'select-mic': {id: string}, name: {name: string},
 *   gesture: {}, 'toggle-hide': {}, 'toggle-chat': {},
 * }} Actions
 */

export const BADGE_TEXT = Object.freeze({
  connecting: 'connecting',
  direct: 'direct',
  relayed: 'relayed',
  reconnecting: 'reconnecting',
  failed: 'failed',
});

/** What the lock on a tile says, by state. */
export const LOCK_TEXT = Object.freeze({
  pending: 'setting up encryption',
  secure: 'encrypted',
  alert: 'encryption problem',
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

/** Why "hide my address" cannot be switched on. */
export const HIDE_UNAVAILABLE = 'Hiding your address needs a relay (TURN) server, and this server has none configured: ' +
  'the others connect to your network address directly.';

/** What a failed tile says, by cause. */
const FAILED_NOTE = Object.freeze({
  '': 'No connection to this person yet. Retrying…',
  turn: 'Could not connect through the relay (TURN) server: it did not answer or refused this call. ' +
    'Your address stays hidden; switch off “hide my address” to try a direct connection.',
});

const BADGE_HELP = Object.freeze({
  connecting: 'Connecting to this person',
  direct: 'Connected directly, browser to browser',
  relayed: 'Connected through a relay server (still encrypted)',
  reconnecting: 'The connection was interrupted; reconnecting',
  failed: 'No connection to this person',
});

/**
 * The screens that end (or stop) a visit, by error code.
 * @type {Record<string, {title: string, text: string, help?: string, retry?: boolean, alt?: string}>}
 */
export const MESSAGES = {
  'room-full': {
    title: 'This room is full',
    text: 'Everyone it has room for is already in the call.',
    help: 'Try again when someone leaves, or start a new room.',
    retry: true,
  },
  forbidden: {
    title: 'This link does not open this room',
    text: 'The room is in use, and the key in your link is not the key it was opened with.',
    help: 'Check that you copied the whole link, including the part after #.',
    retry: true,
  },
  'server-busy': {
    title: 'The server is busy',
    text: 'It is looking after as many rooms and people as it can right now.',
    help: 'Please try again in a minute.',
    retry: true,
  },
  'room-locked': {
    title: 'This room is locked',
    text: 'Its operator has closed it to new people.',
    retry: true,
  },
  'room-closed': {
    title: 'The room was closed',
    text: 'The operator of this server closed the room.',
  },
  'room-expired': {
    title: 'This room has expired',
    text: 'It was open until a set time, which has passed.',
  },
  kicked: {
    title: 'You were removed from the room',
    text: 'The operator of this server removed you from the call.',
  },
  'bad-room': {
    title: 'This is not a room link',
    text: 'The room name in the link is not valid.',
  },
  'bad-link': {
    title: 'This link is incomplete',
    text: 'A room link ends with # and a key, and that part is missing or damaged.',
    help: 'Ask for the link again and copy all of it. The key after # never reaches the server, which is why the server cannot fill it in.',
  },
  denied: {
    title: 'xroom may not use your camera or microphone',
    text: 'Your browser, or you, refused access to them.',
    help: 'Click the camera icon in the address bar (or the site settings), allow the camera and microphone, then try again. You can also join and only watch and listen.',
    retry: true,
    alt: 'Join without camera and microphone',
  },
  unsupported: {
    title: 'This browser cannot make video calls',
    text: 'xroom needs WebRTC and access to the camera, and this browser offers neither here.',
    help: 'Open the link in a current Firefox, Chrome, Edge or Safari. On a phone, open it in the browser itself rather than inside another app.',
  },
  insecure: {
    title: 'This page needs a secure connection',
    text: 'Browsers give cameras and microphones only to pages served over HTTPS (or from this computer).',
    help: 'Ask the operator of this server to serve it over HTTPS.',
  },
  'no-e2ee': {
    title: 'This browser cannot encrypt the call',
    text: 'xroom encrypts every picture and sound end to end, so that nobody running the server can see or hear them. ' +
      'This browser lacks the part of WebRTC that does it (encoded transforms), and xroom never makes a call it cannot encrypt.',
    help: 'Open the link in a current Chrome, Edge or Safari.',
  },
  left: {
    title: 'You left the call',
    text: 'Your camera and microphone are off.',
    retry: true,
  },
};

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

/** A stable colour index (0-7) from an id. @param {string} id */
function hue(id) {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % 8;
}

/**
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
 *   videoLive: boolean, stream: MediaStream | null, unwatch: () => void}} Tile
 */

/** @extends {Emitter<Actions>} */
export class RoomView extends Emitter {
  constructor() {
    super();
    /** @type {Map<string, Tile>} */
    this.tiles = new Map();
    /** @type {ScreenName} */
    this.screen = 'loading';
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.toastTimer = undefined;
    this.el = {
      preview: /** @type {HTMLVideoElement} */ ($('preview')),
      previewOff: $('preview-off'),
      previewOffText: $('preview-off-text'),
      previewAvatar: $('preview-avatar'),
      preMic: $('pre-mic'),
      preCam: $('pre-cam'),
      preLevel: /** @type {HTMLMeterElement} */ ($('pre-level')),
      form: /** @type {HTMLFormElement} */ ($('prejoin-form')),
      name: /** @type {HTMLInputElement} */ ($('name')),
      cameraSelect: /** @type {HTMLSelectElement} */ ($('camera-select')),
      micSelect: /** @type {HTMLSelectElement} */ ($('mic-select')),
      deviceNote: $('device-note'),
      join: /** @type {HTMLButtonElement} */ ($('join')),
      joinStatus: $('join-status'),
      roomTitle: $('room-title'),
      grid: $('grid'),
      callTitle: $('call-title'),
      callCount: $('call-count'),
      banner: $('banner'),
      btnMic: $('btn-mic'),
      btnCam: $('btn-cam'),
      btnScreen: /** @type {HTMLButtonElement} */ ($('btn-screen')),
      btnCopy: $('btn-copy'),
      btnHide: $('btn-hide'),
      btnLeave: $('btn-leave'),
      messageH: $('message-h'),
      messageText: $('message-text'),
      messageHelp: $('message-help'),
      messageRetry: $('message-retry'),
      messageAlt: $('message-alt'),
      toast: $('toast'),
      announcer: $('announcer'),
    };
    this.bind();
    new ResizeObserver(() => this.fit()).observe(this.el.grid);
  }

  bind() {
    const e = this.el;
    e.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.emit('join', {});
    });
    e.name.addEventListener('input', () => {
      this.emit('name', { name: e.name.value });
      this.setPreviewAvatar(e.name.value);
    });
    e.cameraSelect.addEventListener('change', () => this.emit('select-camera', { id: e.cameraSelect.value }));
    e.micSelect.addEventListener('change', () => this.emit('select-mic', { id: e.micSelect.value }));
    e.preMic.addEventListener('click', () => this.emit('toggle-mic', {}));
    e.preCam.addEventListener('click', () => this.emit('toggle-cam', {}));
    e.btnMic.addEventListener('click', () => this.emit('toggle-mic', {}));
    e.btnCam.addEventListener('click', () => this.emit('toggle-cam', {}));
    e.btnScreen.addEventListener('click', () => this.emit('toggle-screen', {}));
    e.btnCopy.addEventListener('click', () => this.emit('copy', {}));
    e.btnHide.addEventListener('click', () => this.emit('toggle-hide', {}));
    e.btnLeave.addEventListener('click', () => this.emit('leave', {}));
    e.messageRetry.addEventListener('click', () => this.emit('retry', {}));
    e.messageAlt.addEventListener('click', () => this.emit('alt', {}));
    document.addEventListener('keydown', (ev) => this.onKey(ev));
    // Audio may start only after a user gesture (autoplay policies).
    const gesture = () => this.emit('gesture', {});
    document.addEventListener('pointerdown', gesture, { once: true, capture: true });
    document.addEventListener('keydown', gesture, { once: true, capture: true });
  }

  /** Keyboard shortcuts of the call: M, V, S, C, L. @param {KeyboardEvent} ev */
  onKey(ev) {
    if (this.screen !== 'call' || ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) return;
    const t = /** @type {HTMLElement | null} */ (ev.target);
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    /** @type {Record<string, keyof Actions>} */
    const keys = { m: 'toggle-mic', v: 'toggle-cam', s: 'toggle-screen', c: 'toggle-chat', l: 'leave' };
    const action = keys[ev.key.toLowerCase()];
    if (!action) return;
    ev.preventDefault();
    this.emit(action, {});
  }

  /** @param {ScreenName} name */
  show(name) {
    this.screen = name;
    for (const s of /** @type {ScreenName[]} */ (['loading', 'prejoin', 'call', 'message'])) {
      $(`screen-${s}`).hidden = s !== name;
    }
    document.body.dataset.screen = name;
  }

  // --- pre-join ---------------------------------------------------------

  /** @param {string} name */
  setName(name) {
    this.el.name.value = name;
    this.setPreviewAvatar(name);
  }

  /** @param {string} name */
  setPreviewAvatar(name) {
    this.el.previewAvatar.textContent = initials(name || 'You');
  }

  /**
   * @param {MediaStreamTrack | null} video
   * @param {string} offText  why there is no picture
   */
  setPreview(video, offText) {
    const v = this.el.preview;
    if (video) {
      if (!(v.srcObject instanceof MediaStream) || v.srcObject.getVideoTracks()[0] !== video) {
        v.srcObject = new MediaStream([video]);
        v.play().catch(() => {});
      }
    } else {
      v.srcObject = null;
    }
    v.hidden = !video;
    this.el.previewOff.hidden = !!video;
    this.el.previewOffText.textContent = offText;
  }

  /** @param {number} level 0..1 */
  setPreLevel(level) {
    this.el.preLevel.value = level;
  }

  /**
   * @param {{cameras: MediaDeviceInfo[], mics: MediaDeviceInfo[]}} devices
   * @param {{camId: string, micId: string}} chosen
   */
  setDevices(devices, chosen) {
    /**
     * @param {HTMLSelectElement} sel
     * @param {MediaDeviceInfo[]} list
     * @param {string} current
     * @param {string} noun
     */
    const fill = (sel, list, current, noun) => {
      sel.replaceChildren(...list.map((d, i) => {
        const o = document.createElement('option');
        o.value = d.deviceId;
        o.textContent = d.label || `${noun} ${i + 1}`;
        return o;
      }));
      if (list.length === 0) {
        const o = document.createElement('option');
        o.value = '';
        o.textContent = `No ${noun.toLowerCase()} found`;
        sel.append(o);
      }
      sel.disabled = list.length === 0;
      if (list.some((d) => d.deviceId === current)) sel.value = current;
    };
    fill(this.el.cameraSelect, devices.cameras, chosen.camId, 'Camera');
    fill(this.el.micSelect, devices.mics, chosen.micId, 'Microphone');
  }

  /** @param {string} text  '' hides it */
  setDeviceNote(text) {
    this.el.deviceNote.textContent = text;
    this.el.deviceNote.hidden = !text;
  }

  /** @param {boolean} busy @param {string} [status] */
  setJoining(busy, status = '') {
    this.el.join.disabled = busy;
    this.el.join.textContent = 'Join';
    this.el.joinStatus.textContent = status;
  }

  /** @param {string} title */
  setRoomTitle(title) {
    this.el.roomTitle.textContent = title;
    this.el.roomTitle.hidden = !title;
    if (title) this.el.callTitle.textContent = title;
    document.title = title ? `${title} · xroom` : 'xroom';
  }

  /**
   * The state of the microphone, camera and screen buttons, both screens.
   * @param {{micOn: boolean, camOn: boolean, screen: boolean, canShare: boolean}} s
   */
  setControls(s) {
    /** @param {HTMLElement} b @param {boolean} on @param {string} offTitle @param {string} onTitle */
    const set = (b, on, offTitle, onTitle) => {
      b.setAttribute('aria-pressed', String(on));
      b.title = on ? offTitle : onTitle;
      b.classList.toggle('is-off', !on);
    };
    set(this.el.preMic, s.micOn, 'Turn the microphone off', 'Turn the microphone on');
    set(this.el.preCam, s.camOn, 'Turn the camera off', 'Turn the camera on');
    set(this.el.btnMic, s.micOn, 'Mute (M)', 'Unmute (M)');
    set(this.el.btnCam, s.camOn, 'Turn the camera off (V)', 'Turn the camera on (V)');
    this.el.btnScreen.setAttribute('aria-pressed', String(s.screen));
    this.el.btnScreen.title = s.screen ? 'Stop sharing (S)' : 'Share your screen (S)';
    this.el.btnScreen.classList.toggle('is-active', s.screen);
    this.el.btnScreen.hidden = !s.canShare;
  }

  // --- the call ---------------------------------------------------------

  /**
   * @param {string} id  tab id ('self' for ours)
   * @param {boolean} self
   */
  addTile(id, self) {
    if (this.tiles.has(id)) return;
    const el = document.createElement('div');
    el.className = `tile hue-${hue(id)}`;
    el.setAttribute('role', 'listitem');
    el.dataset.tab = id;
    if (self) el.dataset.self = '';
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = self;
    video.setAttribute('aria-hidden', 'true');
    const off = document.createElement('div');
    off.className = 'tile-off';
    const avatar = document.createElement('span');
    avatar.className = 'avatar';
    avatar.setAttribute('aria-hidden', 'true');
    // Why there is no picture, when the connection itself failed.
    const note = document.createElement('p');
    note.className = 'tile-note';
    note.hidden = true;
    off.append(avatar, note);
    const info = document.createElement('div');
    info.className = 'tile-info';
    const mic = document.createElement('span');
    mic.className = 'tile-mic';
    mic.append(icon('i-mic-off'));
    const name = document.createElement('span');
    name.className = 'tile-name';
    const badge = document.createElement('span');
    badge.className = 'badge';
    info.append(mic, name, badge);
    el.append(video, off, info);
    /** @type {HTMLElement | null} */
    let sec = null;
    /** @type {HTMLElement | null} */
    let code = null;
    if (!self) {
      // The lock and the safety code of this pair: compared aloud, the
      // same on both screens when nobody is in the middle.
      sec = document.createElement('span');
      sec.className = 'tile-sec';
      sec.setAttribute('aria-hidden', 'true'); // the tile's label says it
      sec.append(icon('i-lock', 'icon on'), icon('i-lock-open', 'icon off'));
      code = document.createElement('span');
      code.className = 'tile-sec-code';
      sec.append(code);
      el.append(sec);
    }
    /** @type {Tile} */
    const tile = {
      el, video, avatar, name, badge, note, sec, code, self, stream: null, videoLive: false, unwatch: () => {},
      info: { name: '', mic: true, cam: true, screen: false, badge: self ? undefined : 'connecting', lock: self ? undefined : 'pending', safety: '' },
    };
    this.tiles.set(id, tile);
    if (self) this.el.grid.prepend(el); else this.el.grid.append(el);
    this.renderTile(tile);
    this.layout();
  }

  /** @param {string} id */
  removeTile(id) {
    const t = this.tiles.get(id);
    if (!t) return;
    t.unwatch();
    t.video.srcObject = null;
    t.el.remove();
    this.tiles.delete(id);
    this.layout();
  }

  /**
   * @param {string} id
   * @param {MediaStream | null} stream
   */
  setTileStream(id, stream) {
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
      this.renderTile(t);
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
  updateTile(id, info) {
    const t = this.tiles.get(id);
    if (!t) return;
    const before = t.info.name;
    t.info = { ...t.info, ...info };
    this.renderTile(t);
    if (!t.self && before && info.name !== undefined && info.name !== before) {
      this.announce(`${before} is now called ${this.displayName(t)}`);
    }
  }

  /** @param {Tile} t */
  displayName(t) {
    if (t.self) return t.info.name ? `${t.info.name} (you)` : 'You';
    return t.info.name || 'Guest';
  }

  /** @param {Tile} t */
  renderTile(t) {
    const { info } = t;
    const showVideo = (info.cam || info.screen) && t.videoLive;
    t.el.dataset.mic = info.mic ? 'on' : 'off';
    t.el.dataset.cam = info.cam ? 'on' : 'off';
    t.el.dataset.screen = info.screen ? 'on' : 'off';
    t.el.dataset.video = showVideo ? 'on' : 'off';
    t.el.classList.toggle('mirror', t.self && info.cam && !info.screen);
    const name = this.displayName(t);
    t.name.textContent = name;
    t.avatar.textContent = initials(info.name || (t.self ? 'You' : 'Guest'));
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
    this.el.grid.dataset.count = String(n);
    this.el.callCount.textContent = n === 1 ? '· only you so far' : `· ${n} people`;
    this.fit();
  }

  /** Sizes the tiles to the largest 16:9 boxes that fit the grid (CSSOM, which the CSP allows). */
  fit() {
    const g = this.el.grid;
    const cs = getComputedStyle(g);
    const w = g.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const h = g.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
    const gap = parseFloat(cs.columnGap) || 0;
    const { width, cols } = tileGeometry(this.tiles.size, w, h, gap);
    g.style.setProperty('--tile-w', `${Math.floor(width)}px`);
    g.dataset.cols = String(cols);
  }

  /**
   * The "hide my address" switch: usable only when the server offers a
   * relay (TURN); otherwise shown disabled, saying why.
   * @param {{available: boolean, on: boolean}} s
   */
  setHideAddress(s) {
    const b = this.el.btnHide;
    b.setAttribute('aria-pressed', String(s.available && s.on));
    b.setAttribute('aria-disabled', String(!s.available));
    b.classList.toggle('is-active', s.available && s.on);
    b.title = !s.available ? HIDE_UNAVAILABLE
      : s.on ? 'Your address is hidden: the others see only the relay\'s. Click to connect directly again.'
        : 'Hide my address: connect through the server\'s relay, so the others never see your network address';
  }

  /** @param {string} text  '' hides it */
  setBanner(text) {
    this.el.banner.textContent = text;
    this.el.banner.hidden = !text;
  }

  /** A short notice that fades. @param {string} text */
  toast(text) {
    const t = this.el.toast;
    t.textContent = text;
    t.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => { t.hidden = true; }, 2500);
  }

  /** For screen readers only. @param {string} text */
  announce(text) {
    this.el.announcer.textContent = text;
  }

  /**
   * Copies text to the clipboard; falls back to a selected text field.
   * @param {string} text
   * @returns {Promise<boolean>}
   */
  async copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      const ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.className = 'offscreen';
      document.body.append(ta);
      ta.select();
      let ok = false;
      try { ok = document.execCommand('copy'); } catch { ok = false; }
      ta.remove();
      return ok;
    }
  }

  // --- messages ---------------------------------------------------------

  /**
   * Shows the message screen for `code` (see MESSAGES).
   * @param {string} code
   * @param {{text?: string, retryLabel?: string}} [extra]
   */
  showMessage(code, extra = {}) {
    const m = MESSAGES[code] ?? { title: 'Something went wrong', text: extra.text ?? code, retry: true };
    this.el.messageH.textContent = m.title;
    this.el.messageText.textContent = extra.text ?? m.text;
    this.el.messageHelp.textContent = m.help ?? '';
    this.el.messageHelp.hidden = !m.help;
    this.el.messageRetry.hidden = !m.retry;
    this.el.messageRetry.textContent = extra.retryLabel ?? (code === 'left' ? 'Rejoin' : 'Try again');
    this.el.messageAlt.hidden = !m.alt;
    this.el.messageAlt.textContent = m.alt ?? '';
    $('message-card').dataset.code = code;
    for (const t of [...this.tiles.keys()]) this.removeTile(t);
    this.el.preview.srcObject = null;
    this.show('message');
    (m.retry ? this.el.messageRetry : this.el.messageH).focus?.();
  }

  /** For the test hook. */
  tileCount() {
    return this.tiles.size;
  }
}
