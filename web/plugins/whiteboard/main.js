// @ts-check
// main.js: the whiteboard. Freehand strokes drawn with a mouse, pen or
// finger are sent to the same plugin in every other peer while they are
// drawn (a segment every FLUSH_MS), merged by stroke id and segment index,
// and redrawn from normalised coordinates whenever the frame changes size.
// "Clear" starts a new epoch for everyone: strokes of an older epoch are
// dropped wherever they arrive.

import { Bridge } from '../_shared/bridge.js';
import { Sync, isPeerId } from '../_shared/sync.js';

const Q = 10000;               // coordinates are integers 0..Q on a 4:3 board
const ASPECT = 4 / 3;
const FLUSH_MS = 50;
const SEG_POINTS = 400;        // points in one segment (about 5 KB of JSON)
const STROKE_SEGS = 1000;      // segments in one stroke; a longer one is split
const MAX_STROKES = 5000;
const MAX_POINTS = 400000;     // on the whole board
const MAX_EPOCH = 2 ** 31;
const EPOCH_JUMP = 64;         // a live message may move us this many clears ahead, no more
const WIDTHS = [0.003, 0.007, 0.016]; // of the board's width
const COLOURS = 6;             // --pen-0 .. --pen-5 in style.css
const STROKE_ID = /^[A-Za-z0-9_-]{8,24}$/;

/**
 * @typedef {object} Stroke
 * @property {string} id
 * @property {string | null} author  peer id, null for ours
 * @property {number} c  colour index
 * @property {number} w  width index
 * @property {number} e  epoch
 * @property {Map<number, number[]>} segs  index -> [x0, y0, x1, y1, ...]
 */

/** @param {string} id */
function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

const bridge = new Bridge();
const canvas = /** @type {HTMLCanvasElement} */ ($('board'));
const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
const toolbar = $('toolbar');
const status = $('status');
const note = $('note');
const who = $('who');
/** The pen colours, read from style.css (--pen-0 ...) at each layout. */
let pens = /** @type {string[]} */ ([]);

/** @type {Map<string, Stroke>} in drawing order */
const strokes = new Map();
let epoch = 0;
let points = 0;
let colour = 0;
let width = 1;
/** Where the board sits in the canvas, in CSS pixels. */
let box = { x: 0, y: 0, w: 1, h: 1 };
let dpr = 1;

/* --- messages in ------------------------------------------------------------ */

/** @param {unknown} v @param {number} lo @param {number} hi */
function int(v, lo, hi) {
  return Number.isInteger(v) && /** @type {number} */ (v) >= lo && /** @type {number} */ (v) <= hi;
}

/**
 * A segment as sent, checked strictly; null when anything is off.
 * @param {any} r
 */
function readSeg(r) {
  if (!r || typeof r !== 'object' || typeof r.s !== 'string' || !STROKE_ID.test(r.s) ||
      !int(r.i, 0, STROKE_SEGS - 1) || !int(r.c, 0, COLOURS - 1) ||
      !int(r.w, 0, WIDTHS.length - 1) || !int(r.e, 0, MAX_EPOCH) || !Array.isArray(r.p) ||
      r.p.length < 2 || r.p.length > SEG_POINTS * 2 + 2 || r.p.length % 2 ||
      (r.a !== undefined && !isPeerId(r.a)))
    return null;
  for (const v of r.p) if (!int(v, 0, Q)) return null;
  return { s: /** @type {string} */ (r.s), i: /** @type {number} */ (r.i),
    c: /** @type {number} */ (r.c), w: /** @type {number} */ (r.w),
    e: /** @type {number} */ (r.e), p: /** @type {number[]} */ (r.p),
    a: /** @type {string | undefined} */ (r.a) };
}

/**
 * Merges one segment. `live`: it came from its author (`author` is the
 * message's `from`), so it may not add to a stroke someone else started.
 * @param {NonNullable<ReturnType<typeof readSeg>>} seg
 * @param {string} author
 * @param {boolean} live
 * @returns {boolean} false when it belongs to an epoch we have cleared
 */
function addSeg(seg, author, live) {
  if (seg.e < epoch) return false;
  if (live && seg.e > epoch + EPOCH_JUMP) return true;
  if (seg.e > epoch) clearTo(seg.e);
  let st = strokes.get(seg.s);
  if (!st) {
    if (strokes.size >= MAX_STROKES) return true;
    st = { id: seg.s, author, c: seg.c, w: seg.w, e: seg.e, segs: new Map() };
    strokes.set(st.id, st);
  } else if (live && st.author !== author) {
    return true;
  }
  if (st.segs.has(seg.i) || points + seg.p.length / 2 > MAX_POINTS) return true;
  st.segs.set(seg.i, seg.p);
  points += seg.p.length / 2;
  drawSeg(st, seg.p);
  counted();
  return true;
}

/** Strokes we were sent from an epoch we cleared: we say so once to their author. */
/** @type {Set<string>} */
const staleTold = new Set();

/** @param {string} from @param {any} d */
function onMessage(from, d) {
  if (d.t === 'seg') {
    const seg = readSeg(d);
    if (!seg || seg.a !== undefined) return;
    const fresh = addSeg(seg, from, true);
    if (fresh) drew(from);
    if (!fresh && !staleTold.has(seg.s)) {
      if (staleTold.size >= 1000) staleTold.clear();
      staleTold.add(seg.s);
      send({ t: 'clear', e: epoch }, from);
    }
  } else if (d.t === 'clear') {
    if (int(d.e, 1, MAX_EPOCH) && d.e > epoch && d.e <= epoch + EPOCH_JUMP) clearTo(d.e);
  }
}

/* --- the board ---------------------------------------------------------------- */

/** Drops every stroke older than epoch `e`. */
/** @param {number} e */
function clearTo(e) {
  epoch = e;
  for (const [id, st] of strokes) if (st.e < e) strokes.delete(id);
  points = 0;
  for (const st of strokes.values()) for (const p of st.segs.values()) points += p.length / 2;
  redraw();
  counted();
}

function counted() {
  const n = strokes.size;
  document.body.dataset.strokes = String(n);
  const text = `${n} ${n === 1 ? 'stroke' : 'strokes'}`;
  if (status.textContent !== text) status.textContent = text;
}

/** @param {string} text */
function say(text) {
  note.textContent = text;
  note.hidden = !text;
}

function snapshot() {
  /** @type {object[]} */
  const out = [{ e: epoch }];
  for (const st of strokes.values())
    for (const [i, p] of st.segs) {
      if (p.length < 2 || (drawing && p === drawing.buf)) continue; // not sent yet
      /** @type {Record<string, unknown>} */
      const r = { s: st.id, i, c: st.c, w: st.w, e: st.e, p };
      if (st.author !== null) r.a = st.author;
      out.push(r);
    }
  return out;
}

/** @param {unknown[]} records @param {string} from */
function apply(records, from) {
  for (const r of records) {
    if (r && typeof r === 'object' && !('s' in r)) {
      const e = /** @type {{e?: unknown}} */ (r).e;
      if (int(e, 0, MAX_EPOCH) && /** @type {number} */ (e) > epoch) clearTo(/** @type {number} */ (e));
      continue;
    }
    const seg = readSeg(r);
    if (seg) addSeg(seg, seg.a ?? from, false);
  }
}

/* --- drawing ------------------------------------------------------------------ */

function layout() {
  const css = getComputedStyle(document.documentElement);
  pens = [...Array(COLOURS).keys()].map((i) => css.getPropertyValue(`--pen-${i}`).trim() || '#e6edf3');
  dpr = window.devicePixelRatio || 1;
  const cw = canvas.clientWidth, ch = canvas.clientHeight;
  canvas.width = Math.max(1, Math.round(cw * dpr));
  canvas.height = Math.max(1, Math.round(ch * dpr));
  const w = Math.min(cw, ch * ASPECT), h = w / ASPECT;
  box = { x: (cw - w) / 2, y: (ch - h) / 2, w, h };
  redraw();
}

function redraw() {
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = getComputedStyle(canvas).getPropertyValue('--paper').trim() || '#161b22';
  ctx.fillRect(box.x, box.y, box.w, box.h);
  for (const st of strokes.values()) for (const p of st.segs.values()) drawSeg(st, p);
}

/**
 * Draws points p[from/2..] of a stroke (from the point before them, so a
 * line continues).
 * @param {Stroke} st @param {number[]} p @param {number} [from]
 */
function drawSeg(st, p, from = 0) {
  if (p.length < 2) return;
  const X = (/** @type {number} */ v) => box.x + (v / Q) * box.w;
  const Y = (/** @type {number} */ v) => box.y + (v / Q) * box.h;
  ctx.strokeStyle = ctx.fillStyle = pens[st.c];
  ctx.lineWidth = Math.max(1, WIDTHS[st.w] * box.w);
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  const start = Math.max(0, from - 2);
  if (p.length - start === 2) {
    ctx.beginPath();
    ctx.arc(X(p[start]), Y(p[start + 1]), ctx.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(X(p[start]), Y(p[start + 1]));
  for (let k = start + 2; k < p.length; k += 2) ctx.lineTo(X(p[k]), Y(p[k + 1]));
  ctx.stroke();
}

/* --- our strokes -------------------------------------------------------------- */

/**
 * The stroke being drawn: the segment not yet sent is `buf` (index `i`),
 * which begins with the last point of the one before.
 * @type {{pointer: number, st: Stroke, i: number, buf: number[] | null, last: number[]} | null}
 */
let drawing = null;
/** @type {number | undefined} */
let flusher;

function newId() {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_');
}

/** @param {PointerEvent} ev @returns {number[]} */
function at(ev) {
  const r = canvas.getBoundingClientRect();
  const q = (/** @type {number} */ v) => Math.round(Math.min(1, Math.max(0, v)) * Q);
  return [q((ev.clientX - r.left - box.x) / box.w), q((ev.clientY - r.top - box.y) / box.h)];
}

/** @param {number} pointer @param {number[]} pt */
function begin(pointer, pt) {
  if (strokes.size >= MAX_STROKES || points >= MAX_POINTS) {
    say('The board is full: clear it to draw more.');
    drawing = null;
    return;
  }
  /** @type {Stroke} */
  const st = { id: newId(), author: null, c: colour, w: width, e: epoch, segs: new Map() };
  const buf = [pt[0], pt[1]];
  st.segs.set(0, buf);
  strokes.set(st.id, st);
  points++;
  drawing = { pointer, st, i: 0, buf, last: pt };
  drawSeg(st, buf);
  counted();
}

/** @param {number[]} pt */
function extend(pt) {
  const d = drawing;
  if (!d || (pt[0] === d.last[0] && pt[1] === d.last[1])) return;
  if (d.st.e !== epoch || !strokes.has(d.st.id) || d.i >= STROKE_SEGS) {
    // cleared under our pen, or too long: go on as a new stroke
    flush();
    begin(d.pointer, d.last);
    return extend(pt);
  }
  if (points >= MAX_POINTS) return;
  if (!d.buf) {
    d.buf = [d.last[0], d.last[1]];
    d.st.segs.set(d.i, d.buf);
  }
  d.buf.push(pt[0], pt[1]);
  points++;
  drawSeg(d.st, d.buf, d.buf.length - 2);
  d.last = pt;
  if (d.buf.length >= SEG_POINTS * 2) flush();
}

/** Sends the segment drawn since the last flush. */
function flush() {
  const d = drawing;
  if (!d) {
    clearInterval(flusher);
    flusher = undefined;
    return;
  }
  if (!d.buf || (d.i > 0 && d.buf.length < 4)) return;
  const st = d.st;
  if (st.e === epoch && strokes.has(st.id))
    send({ t: 'seg', s: st.id, i: d.i, c: st.c, w: st.w, e: st.e, p: d.buf });
  d.i++;
  d.buf = null;
}

function end() {
  flush();
  drawing = null;
  clearInterval(flusher);
  flusher = undefined;
}

canvas.addEventListener('pointerdown', (ev) => {
  if (drawing || (ev.pointerType === 'mouse' && ev.button !== 0)) return;
  ev.preventDefault();
  canvas.setPointerCapture(ev.pointerId);
  begin(ev.pointerId, at(ev));
  if (drawing) flusher = window.setInterval(flush, FLUSH_MS);
});
canvas.addEventListener('pointermove', (ev) => {
  if (!drawing || ev.pointerId !== drawing.pointer) return;
  const evs = typeof ev.getCoalescedEvents === 'function' ? ev.getCoalescedEvents() : [];
  for (const e of evs.length ? evs : [ev]) extend(at(e));
});
for (const type of ['pointerup', 'pointercancel', 'lostpointercapture'])
  canvas.addEventListener(type, (ev) => {
    if (drawing && /** @type {PointerEvent} */ (ev).pointerId === drawing.pointer) end();
  });

/* --- the toolbar -------------------------------------------------------------- */

/** @param {string} group @param {number} v */
function press(group, v) {
  for (const b of toolbar.querySelectorAll(`[data-${group}]`))
    b.setAttribute('aria-pressed', String(Number(b.getAttribute(`data-${group}`)) === v));
}

toolbar.addEventListener('click', (ev) => {
  const b = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (ev.target).closest('button'));
  if (!b) return;
  if (b.dataset.colour !== undefined) press('colour', (colour = Number(b.dataset.colour)));
  else if (b.dataset.width !== undefined) press('width', (width = Number(b.dataset.width)));
  else if (b.id === 'clear') {
    if (drawing) end();
    clearTo(Math.min(MAX_EPOCH, epoch + 1));
    send({ t: 'clear', e: epoch });
  }
});

// One tab stop, on the button last used; arrows, Home and End move along the toolbar.
toolbar.addEventListener('focusin', (ev) => {
  for (const b of toolbar.querySelectorAll('button')) b.tabIndex = b === ev.target ? 0 : -1;
});
toolbar.addEventListener('keydown', (ev) => {
  const buttons = /** @type {HTMLButtonElement[]} */ ([...toolbar.querySelectorAll('button')]);
  const i = buttons.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
  if (i < 0) return;
  const to = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1,
    Home: 0, End: buttons.length - 1 }[ev.key];
  if (to === undefined) return;
  ev.preventDefault();
  buttons[(to + buttons.length) % buttons.length].focus();
});

/* --- who is drawing ----------------------------------------------------------- */

/** Display names by peer id (the `names` permission). */
/** @type {Map<string, string>} */
const names = new Map();
/** Peers whose strokes arrived lately, until when. */
/** @type {Map<string, number>} */
const active = new Map();
/** @type {number | undefined} */
let whoTimer;

/** @param {any} p */
function learnName(p) {
  if (p && isPeerId(p.id) && typeof p.name === 'string' && p.name.length <= 200)
    names.set(p.id, p.name.trim().slice(0, 64));
}

/** @param {string} id */
function drew(id) {
  active.set(id, Date.now() + 1500);
  showWho();
}

function showWho() {
  const now = Date.now();
  for (const [id, until] of active) if (until <= now) active.delete(id);
  const list = [...active.keys()].map((id) => names.get(id) || 'Someone');
  const text = list.length ? `${list.slice(0, 3).join(', ')}${list.length > 3 ? '…' : ''} drawing` : '';
  if (who.textContent !== text) who.textContent = text;
  clearTimeout(whoTimer);
  whoTimer = active.size ? window.setTimeout(showWho, 500) : undefined;
}

/* --- the app ------------------------------------------------------------------ */

/**
 * Sends to the others (or one); a refusal other than "forbidden" (the app
 * allows 50 requests a second) is tried again once, a second later.
 * Resolves true when the app took it, false when not (never rejects).
 * @param {object} data @param {string} [to] @param {number} [retries]
 * @returns {Promise<boolean>}
 */
function send(data, to, retries = 1) {
  return bridge.call('send', to === undefined ? { data } : { data, to }, 10000).then(() => true, (e) => {
    if (e.code === 'forbidden') say('This plugin may not send: drawings stay on this screen.');
    else if (e.code === 'timeout') say('xroom does not answer: the others may not see your changes.');
    else if (retries > 0 && e.code !== 'too-large')
      return new Promise((ok) => setTimeout(ok, 1000)).then(() => send(data, to, retries - 1));
    return false;
  });
}

const sync = new Sync({ send, snapshot, apply,
  onSynced: () => { document.body.dataset.synced = '1'; } });

sync.listen(bridge, { onMessage, onJoined: learnName, onLeft: (id) => { names.delete(id); } });

new ResizeObserver(layout).observe(canvas);
layout();
counted();

const waiting = window.setTimeout(() => say('Waiting for xroom… This page works inside an xroom call.'), 4000);
bridge.ready.then(async () => {
  clearTimeout(waiting);
  say('');
  const peers = await bridge.call('peers').catch(() => null);
  if (Array.isArray(peers)) peers.slice(0, 1000).forEach(learnName);
  document.body.dataset.ready = '1';
  sync.start();
});
