// @ts-check
// main.js: polls. Anyone creates one (a question, 2 to 8 options); everyone
// votes, once per poll, and may change their mind until the creator closes
// it. Each peer counts the votes it has seen, keyed by the `from` of the
// vote message (never an id inside it), each with the voter's own sequence
// number so that the latest choice wins wherever it arrives. Closing sends
// the creator's final list, so every tally ends the same.

import { Bridge } from '../_shared/bridge.js';
import { Sync, isPeerId } from '../_shared/sync.js';

const MAX_POLLS = 50;
const MAX_OPTIONS = 8;
const MIN_OPTIONS = 2;
const QUESTION_MAX = 200;
const OPTION_MAX = 100;
const MAX_VOTERS = 1000;       // per poll
const MAX_WAITING = 500;       // votes for polls not seen yet
const MAX_SEQ = 2 ** 31;
const CLOSE_LIST_BYTES = 12000;
const POLL_ID = /^[A-Za-z0-9_-]{8,24}$/;

/**
 * @typedef {{v: number, n: number}} Vote  option index, the voter's sequence number
 * @typedef {object} Poll
 * @property {string} id
 * @property {string | null} creator  peer id, null for ours
 * @property {string} q
 * @property {string[]} opts
 * @property {boolean} closed
 * @property {Map<string, Vote>} votes  by voter id, others only
 * @property {Vote | null} mine
 * @property {HTMLElement} el
 */

/** @param {string} id */
function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag @param {string} [cls] @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(tag, cls, text) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined) el.textContent = text;
  return el;
}

const bridge = new Bridge();
const list = $('polls');
const empty = $('empty');
const status = $('status');
const note = $('note');
const question = /** @type {HTMLInputElement} */ ($('question'));
const optionsBox = $('options');
const addOption = /** @type {HTMLButtonElement} */ ($('add-option'));
const createBtn = /** @type {HTMLButtonElement} */ ($('create'));
const createError = $('create-error');

/** @type {Map<string, Poll>} */
const polls = new Map();
/** Votes that came before their poll: poll id -> voter -> vote. */
/** @type {Map<string, Map<string, Vote>>} */
const waiting = new Map();
let waitingCount = 0;
/** @type {Map<string, string>} */
const names = new Map();

/* --- checking what arrives ------------------------------------------------------ */

/** @param {unknown} v @param {number} lo @param {number} hi */
function int(v, lo, hi) {
  return Number.isInteger(v) && /** @type {number} */ (v) >= lo && /** @type {number} */ (v) <= hi;
}

/** Text with no control characters, trimmed, 1..max characters; else null. */
/** @param {unknown} v @param {number} max */
function text(v, max) {
  if (typeof v !== 'string' || v.length > max * 2) return null;
  // eslint-disable-next-line no-control-regex
  const t = v.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ').trim();
  return t && [...t].length <= max ? t : null;
}

/** @param {any} d @returns {{id: string, q: string, opts: string[]} | null} */
function readPoll(d) {
  if (typeof d.id !== 'string' || !POLL_ID.test(d.id) || !Array.isArray(d.o) ||
      d.o.length < MIN_OPTIONS || d.o.length > MAX_OPTIONS) return null;
  const q = text(d.q, QUESTION_MAX);
  const opts = d.o.map((/** @type {unknown} */ o) => text(o, OPTION_MAX));
  if (!q || opts.some((/** @type {string | null} */ o) => o === null)) return null;
  return { id: d.id, q, opts };
}

/** @param {any} v @returns {Vote | null} */
function readVote(v, nopts = MAX_OPTIONS) {
  return v && typeof v === 'object' && int(v.v, 0, nopts - 1) && int(v.n, 1, MAX_SEQ)
    ? { v: v.v, n: v.n } : null;
}

/* --- the model -------------------------------------------------------------------- */

/**
 * Adds a poll we did not have; returns it (or the one we had, or null when
 * there are too many).
 * @param {{id: string, q: string, opts: string[]}} p @param {string | null} creator
 */
function addPoll(p, creator) {
  const had = polls.get(p.id);
  if (had) return had;
  if (polls.size >= MAX_POLLS) return null;
  /** @type {Poll} */
  const poll = { ...p, creator: creator === sync.self ? null : creator, closed: false,
    votes: new Map(), mine: null, el: h('section', 'poll') };
  polls.set(poll.id, poll);
  build(poll);
  const early = waiting.get(poll.id);
  if (early) {
    waiting.delete(poll.id);
    waitingCount -= early.size;
    for (const [voter, v] of early) setVote(poll, voter, v);
  }
  document.body.dataset.polls = String(polls.size);
  return poll;
}

/**
 * Records a voter's choice if it is newer than the one we have.
 * @param {Poll} poll @param {string | null} voter  null: us @param {Vote} v
 */
function setVote(poll, voter, v) {
  if (v.v >= poll.opts.length) return;
  if (voter === null || voter === sync.self) {
    if (!poll.mine || v.n > poll.mine.n) poll.mine = v;
    return;
  }
  const had = poll.votes.get(voter);
  if (had ? v.n <= had.n : poll.votes.size >= MAX_VOTERS) return;
  poll.votes.set(voter, v);
}

/** @param {string} from @param {any} d */
function onMessage(from, d) {
  if (d.t === 'poll') {
    const p = readPoll(d);
    if (!p || polls.has(p.id)) return;
    const poll = addPoll(p, from);
    if (poll) {
      show(poll);
      status.textContent = `New poll from ${nameOf(from)}: ${poll.q}`;
    }
  } else if (d.t === 'vote') {
    if (typeof d.id !== 'string' || !POLL_ID.test(d.id)) return;
    const v = readVote(d);
    if (!v) return;
    const poll = polls.get(d.id);
    if (!poll) return wait(d.id, from, v);
    if (poll.closed) return;
    setVote(poll, from, v);
    show(poll);
  } else if (d.t === 'close') {
    const poll = typeof d.id === 'string' ? polls.get(d.id) : undefined;
    if (!poll || poll.creator !== from) return;
    const final = readFinal(d, poll);
    if (d.v !== undefined && !final) return;
    poll.closed = true;
    if (final) {
      poll.votes.clear();
      const mine = sync.self !== null ? final.get(sync.self) : undefined;
      if (sync.self !== null) poll.mine = mine ?? null;
      for (const [voter, v] of final) if (voter !== sync.self) poll.votes.set(voter, v);
    }
    show(poll);
    status.textContent = `Poll closed: ${poll.q}`;
  }
}

/**
 * The creator's final votes in a `close`: [[voter, option, seq], ...] plus
 * its own as `m`. Null when absent or malformed.
 * @param {any} d @param {Poll} poll @returns {Map<string, Vote> | null}
 */
function readFinal(d, poll) {
  if (!Array.isArray(d.v) || d.v.length > MAX_VOTERS) return null;
  /** @type {Map<string, Vote>} */
  const out = new Map();
  for (const e of d.v) {
    if (!Array.isArray(e) || e.length !== 3 || !isPeerId(e[0])) return null;
    const v = readVote({ v: e[1], n: e[2] }, poll.opts.length);
    if (!v) return null;
    out.set(e[0], v);
  }
  if (d.m !== undefined) {
    const m = readVote(d.m, poll.opts.length);
    if (!m || !poll.creator) return null;
    out.set(poll.creator, m);
  }
  return out;
}

/** @param {string} id @param {string} voter @param {Vote} v */
function wait(id, voter, v) {
  let m = waiting.get(id);
  if (!m) {
    if (waitingCount >= MAX_WAITING) return;
    waiting.set(id, (m = new Map()));
  }
  const had = m.get(voter);
  if (had && had.n >= v.n) return;
  if (!had) {
    if (waitingCount >= MAX_WAITING) return;
    waitingCount++;
  }
  m.set(voter, v);
}

/* --- state for late joiners ------------------------------------------------------- */

/** Records: {k: 'p', id, q, o, c?, x} then {k: 'v', id, by?, v, n}; no `c`/`by`: the sender. */
function snapshot() {
  /** @type {object[]} */
  const out = [];
  for (const p of polls.values()) {
    /** @type {Record<string, unknown>} */
    const r = { k: 'p', id: p.id, q: p.q, o: p.opts, x: p.closed };
    if (p.creator !== null) r.c = p.creator;
    out.push(r);
  }
  for (const p of polls.values()) {
    if (p.mine) out.push({ k: 'v', id: p.id, v: p.mine.v, n: p.mine.n });
    for (const [by, v] of p.votes) out.push({ k: 'v', id: p.id, by, v: v.v, n: v.n });
  }
  return out;
}

/** @param {unknown[]} records @param {string} from */
function apply(records, from) {
  /** @type {Set<Poll>} */
  const touched = new Set();
  for (const r of /** @type {any[]} */ (records)) {
    if (!r || typeof r !== 'object') continue;
    if (r.k === 'p') {
      const p = readPoll(r);
      if (!p || typeof r.x !== 'boolean' || (r.c !== undefined && !isPeerId(r.c))) continue;
      const poll = addPoll(p, r.c ?? from);
      if (!poll) continue;
      if (r.x) poll.closed = true;
      touched.add(poll);
    } else if (r.k === 'v') {
      const poll = typeof r.id === 'string' ? polls.get(r.id) : undefined;
      const v = poll && readVote(r, poll.opts.length);
      if (!poll || !v || (r.by !== undefined && !isPeerId(r.by))) continue;
      setVote(poll, r.by ?? from, v);
      touched.add(poll);
    }
  }
  for (const p of touched) show(p);
}

/** Once we know our id: a vote of ours someone passed on is ours, a poll of ours is ours. */
/** @param {string} self */
function onSelf(self) {
  for (const p of polls.values()) {
    const v = p.votes.get(self);
    if (v) {
      p.votes.delete(self);
      setVote(p, null, v);
    }
    if (p.creator === self) p.creator = null;
    show(p);
  }
}

/* --- the view ------------------------------------------------------------------- */

/** @param {string | null} id */
function nameOf(id) {
  return id === null ? 'you' : names.get(id) || 'someone';
}

/** Makes a poll's section (once); `show` keeps it up to date. */
/** @param {Poll} poll */
function build(poll) {
  const el = poll.el;
  el.dataset.pollId = poll.id;
  el.setAttribute('aria-labelledby', `q-${poll.id}`);
  const title = h('h2', 'question', poll.q);
  title.id = `q-${poll.id}`;
  title.tabIndex = -1;
  const meta = h('p', 'meta');
  meta.append(h('span', 'by'), h('span', 'state'), h('span', 'voters'));
  const ul = h('ul', 'options');
  poll.opts.forEach((o, i) => {
    const li = h('li', 'option');
    li.dataset.option = String(i);
    const b = h('button', 'vote', o);
    b.type = 'button';
    b.setAttribute('aria-label', `Vote for ${o}`);
    b.addEventListener('click', () => vote(poll, i));
    const bar = h('progress', 'bar');
    bar.max = 100;
    bar.setAttribute('aria-hidden', 'true');
    li.append(b, bar, h('span', 'count'));
    ul.append(li);
  });
  const close = h('button', 'close-poll', 'Close poll');
  close.type = 'button';
  close.addEventListener('click', () => closePoll(poll));
  el.append(title, meta, ul, close);
  list.prepend(el);
  empty.hidden = true;
}

/** @param {Poll} poll */
function show(poll) {
  const el = poll.el;
  const counts = poll.opts.map(() => 0);
  /** @type {string[][]} */
  const who = poll.opts.map(() => []);
  for (const [voter, v] of poll.votes) {
    counts[v.v]++;
    who[v.v].push(nameOf(voter));
  }
  if (poll.mine) {
    counts[poll.mine.v]++;
    who[poll.mine.v].unshift('you');
  }
  const total = poll.votes.size + (poll.mine ? 1 : 0);
  el.dataset.closed = String(poll.closed);
  el.dataset.voters = String(total);
  const [by, state, voters] = el.querySelectorAll('.meta span');
  by.textContent = poll.creator === null ? 'Your poll' : `Asked by ${nameOf(poll.creator)}`;
  state.textContent = poll.closed ? 'Closed' : 'Open';
  voters.textContent = `${total} ${total === 1 ? 'voter' : 'voters'}`;
  el.querySelectorAll('li.option').forEach((li, i) => {
    const b = /** @type {HTMLButtonElement} */ (li.querySelector('button.vote'));
    const bar = /** @type {HTMLProgressElement} */ (li.querySelector('progress'));
    const count = /** @type {HTMLElement} */ (li.querySelector('.count'));
    const pct = total ? Math.round((counts[i] / total) * 100) : 0;
    b.setAttribute('aria-pressed', String(poll.mine?.v === i));
    b.disabled = poll.closed;
    bar.value = pct;
    count.dataset.count = String(counts[i]);
    count.dataset.percent = String(pct);
    count.textContent = `${counts[i]} · ${pct}%`;
    if (who[i].length) count.title = `Voted: ${who[i].join(', ')}`;
    else count.removeAttribute('title');
  });
  const close = /** @type {HTMLButtonElement} */ (el.querySelector('.close-poll'));
  close.hidden = poll.closed || poll.creator !== null;
}

function showAll() {
  for (const p of polls.values()) show(p);
}

/** @param {string} text */
function say(text) {
  note.textContent = text;
  note.hidden = !text;
}

/* --- our actions ------------------------------------------------------------------ */

/** @param {Poll} poll @param {number} i */
function vote(poll, i) {
  if (poll.closed || poll.mine?.v === i) return;
  const n = Math.min(MAX_SEQ, (poll.mine?.n ?? 0) + 1);
  poll.mine = { v: i, n };
  show(poll);
  send({ t: 'vote', id: poll.id, v: i, n });
}

/** @param {Poll} poll */
function closePoll(poll) {
  if (poll.closed || poll.creator !== null) return;
  poll.closed = true;
  show(poll);
  /** @type {Record<string, unknown>} */
  const msg = { t: 'close', id: poll.id, v: [...poll.votes].map(([by, v]) => [by, v.v, v.n]) };
  if (poll.mine) msg.m = poll.mine;
  // Too many voters for one message: close without the list (tallies may differ slightly).
  if (new TextEncoder().encode(JSON.stringify(msg)).length > CLOSE_LIST_BYTES) {
    delete msg.v;
    delete msg.m;
  }
  send(msg);
  (/** @type {HTMLElement} */ (poll.el.querySelector('h2'))).focus();
}

function optionInputs() {
  return /** @type {HTMLInputElement[]} */ ([...optionsBox.querySelectorAll('input')]);
}

/** Numbers the option rows 1..n and shows "Remove" only above the minimum. */
function renumber() {
  const rows = [...optionsBox.querySelectorAll('.opt-row')];
  rows.forEach((row, i) => {
    const label = /** @type {HTMLLabelElement} */ (row.querySelector('label'));
    const input = /** @type {HTMLInputElement} */ (row.querySelector('input'));
    const rm = /** @type {HTMLButtonElement} */ (row.querySelector('button'));
    input.id = `opt-${i}`;
    label.htmlFor = input.id;
    label.textContent = `Option ${i + 1}`;
    // "Remove this option", described by its label: its name must not
    // contain "Option 1", or that label would name two things.
    rm.setAttribute('aria-describedby', `opt-label-${i}`);
    label.id = `opt-label-${i}`;
    rm.hidden = rows.length <= MIN_OPTIONS;
  });
  addOption.disabled = rows.length >= MAX_OPTIONS;
}

function addOptionRow() {
  if (optionInputs().length >= MAX_OPTIONS) return null;
  const row = h('div', 'opt-row');
  const input = h('input');
  input.type = 'text';
  input.maxLength = OPTION_MAX;
  input.autocomplete = 'off';
  const rm = h('button', 'remove', '×');
  rm.type = 'button';
  rm.setAttribute('aria-label', 'Remove this option');
  rm.addEventListener('click', () => {
    const inputs = optionInputs();
    const i = inputs.indexOf(input);
    row.remove();
    renumber();
    const rest = optionInputs();
    rest[Math.min(i, rest.length - 1)]?.focus();
  });
  row.append(h('label'), input, rm);
  optionsBox.append(row);
  renumber();
  return input;
}

function resetForm() {
  question.value = '';
  optionsBox.replaceChildren();
  for (let i = 0; i < MIN_OPTIONS; i++) addOptionRow();
}

/** @param {string} msg @param {HTMLInputElement | null} bad */
function formError(msg, bad) {
  for (const i of [question, ...optionInputs()]) i.removeAttribute('aria-invalid');
  createError.textContent = msg;
  createError.hidden = !msg;
  if (bad) {
    bad.setAttribute('aria-invalid', 'true');
    bad.focus();
  }
}

function create() {
  const q = text(question.value, QUESTION_MAX);
  if (!q) return formError('Write a question.', question);
  const inputs = optionInputs();
  /** @type {string[]} */
  const opts = [];
  for (const input of inputs) {
    const t = input.value.trim();
    if (!t) continue;
    const o = text(t, OPTION_MAX);
    if (!o) return formError('An option is too long.', input);
    if (opts.includes(o)) return formError('Two options are the same.', input);
    opts.push(o);
  }
  if (opts.length < MIN_OPTIONS)
    return formError('Give at least two options.', inputs.find((i) => !i.value.trim()) ?? null);
  if (polls.size >= MAX_POLLS) return formError('There are too many polls already.', null);
  formError('', null);
  const b = crypto.getRandomValues(new Uint8Array(12));
  const id = btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_');
  const poll = addPoll({ id, q, opts }, null);
  if (!poll) return;
  show(poll);
  send({ t: 'poll', id, q, o: opts });
  resetForm();
  status.textContent = `Poll created: ${q}`;
  (/** @type {HTMLElement} */ (poll.el.querySelector('h2'))).focus();
}

addOption.addEventListener('click', () => addOptionRow()?.focus());
createBtn.addEventListener('click', create);
// No form is submitted (the sandbox forbids it): Enter moves on, and on the last option creates.
$('create-poll').addEventListener('keydown', (ev) => {
  const t = ev.target;
  if (ev.key !== 'Enter' || !(t instanceof HTMLInputElement)) return;
  ev.preventDefault();
  const fields = [question, ...optionInputs()];
  const i = fields.indexOf(t);
  if (i >= 0 && i < fields.length - 1) fields[i + 1].focus();
  else create();
});

/* --- the app ---------------------------------------------------------------------- */

/**
 * Sends to the others (or one); a refusal other than "forbidden" (the app
 * allows 50 requests a second) is tried again once, a second later.
 * Resolves true when the app took it, false when not (never rejects).
 * @param {object} data @param {string} [to] @param {number} [retries]
 * @returns {Promise<boolean>}
 */
function send(data, to, retries = 1) {
  return bridge.call('send', to === undefined ? { data } : { data, to }, 10000).then(() => true, (e) => {
    if (e.code === 'forbidden') say('This plugin may not send: polls and votes stay on this screen.');
    else if (e.code === 'timeout') say('xroom does not answer: the others may not see your changes.');
    else if (retries > 0 && e.code !== 'too-large')
      return new Promise((ok) => setTimeout(ok, 1000)).then(() => send(data, to, retries - 1));
    return false;
  });
}

const sync = new Sync({ send, snapshot, apply, onSelf,
  onSynced: () => { document.body.dataset.synced = '1'; } });

/** @param {any} p */
function learnName(p) {
  if (!p || !isPeerId(p.id)) return;
  const n = typeof p.name === 'string' && p.name.length <= 200 ? text(p.name, 64) : null;
  if (n) names.set(p.id, n);
  showAll();
}

sync.listen(bridge, { onMessage, onJoined: learnName });

resetForm();
document.body.dataset.polls = '0';
const waitingNote = window.setTimeout(() => say('Waiting for xroom… This page works inside an xroom call.'), 4000);
bridge.ready.then(async () => {
  clearTimeout(waitingNote);
  say('');
  const peers = await bridge.call('peers').catch(() => null);
  if (Array.isArray(peers)) for (const p of peers.slice(0, 1000)) learnName(p);
  document.body.dataset.ready = '1';
  sync.start();
});
