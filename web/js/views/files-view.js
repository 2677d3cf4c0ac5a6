// @ts-check
// files-view.js: the DOM of file transfers. Picking files (button, drag and
// drop onto the call, paste), the "send to" dialog, and one item per file in
// the chat log with a row per person: progress, rate, time left, Accept /
// Decline / Cancel, and Save once the file is verified. Reports what the
// person chose; decides nothing about the network.

import { Emitter } from '../util/emitter.js';
import { ChatView } from './chat-view.js';
import { progressOf } from '../features/files/transfer.js';
import { byId as $, button } from './dom.js';

/** @typedef {import('../features/files/transfer.js').Transfer} Transfer */

/** What the UI says when a transfer ends badly or stops. */
export const REASONS = Object.freeze({
  'peer-left': 'They left the call.',
  integrity: 'The file arrived damaged (hash mismatch). Nothing was saved.',
  'too-many-corrupt': 'Too many damaged pieces arrived. Nothing was saved.',
  'read-error': 'The file could not be read on the sender’s side.',
  'write-error': 'The file could not be written to this browser’s storage.',
  'no-space': 'Not enough space in this browser’s storage.',
  unknown: 'The other side does not know this transfer any more.',
  closed: 'The call ended.',
});

/** "3.1 MB": decimal units, as file managers show them. @param {number} n */
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u += 1; }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** "5 s left", "3 min left". @param {number} s */
export function formatLeft(s) {
  if (!Number.isFinite(s)) return '';
  if (s < 60) return `${Math.max(1, Math.ceil(s))} s left`;
  if (s < 3600) return `${Math.ceil(s / 60)} min left`;
  return `${Math.floor(s / 3600)} h ${Math.ceil((s % 3600) / 60)} min left`;
}

/**
 * What a transfer's row says.
 * @param {Transfer} t @param {string} who  the other person's name
 */
export function statusText(t, who) {
  const p = progressOf(t);
  switch (t.state) {
    case 'offered': return `Waiting for ${who} to accept…`;
    case 'asking': return `${who} wants to send you this file.`;
    case 'sending':
    case 'receiving': {
      const parts = [`${p.percent}%`];
      if (p.rate > 0) parts.push(`${formatBytes(p.rate)}/s`, formatLeft(p.secondsLeft));
      return parts.filter(Boolean).join(' · ');
    }
    case 'paused': return `${p.percent}% · Connection lost; it goes on from here when ${who} is back.`;
    case 'verifying': return 'Checking the file…';
    case 'done': return t.dir === 'in' ? 'Received and checked: the file is intact.' : `Delivered to ${who}, checked on arrival.`;
    case 'declined': return t.by === 'me' ? 'You declined.' : `${who} declined.`;
    case 'cancelled': return t.by === 'me' ? 'You cancelled.' : `${who} cancelled.`;
    case 'failed': return REASONS[/** @type {keyof typeof REASONS} */ (t.reason)] ?? `Failed (${t.reason}).`;
    default: return '';
  }
}

/**
 * @typedef {{
 *   send: {files: File[], to: string},
 *   accept: {transfer: Transfer}, decline: {transfer: Transfer},
 *   cancel: {transfer: Transfer}, pick: {},
 * }} FilesViewEvents
 */

/** @extends {Emitter<FilesViewEvents>} */
export class FilesView extends Emitter {
  /**
   * @param {ChatView} chat  the log the items go into
   * @param {{name: (tab: string) => string, peers: () => Array<{tab: string, name: string}>, active: () => boolean}} host
   */
  constructor(chat, host) {
    super();
    this.chat = chat;
    this.host = host;
    this.el = {
      button: $('btn-file'),
      input: /** @type {HTMLInputElement} */ ($('file-input')),
      dialog: /** @type {HTMLDialogElement} */ ($('send-dialog')),
      list: $('send-list'),
      to: /** @type {HTMLSelectElement} */ ($('send-to')),
      note: $('send-note'),
      go: /** @type {HTMLButtonElement} */ ($('send-go')),
      drop: $('drop-zone'),
      call: $('screen-call'),
    };
    /** @type {File[]} */
    this.picked = [];
    /** @type {Map<string, {li: HTMLElement, rows: Map<string, {row: HTMLElement, bar: HTMLProgressElement, status: HTMLElement, actions: HTMLElement, state: string}>, url: string}>} by group */
    this.items = new Map();
    /** @type {Map<string, number>} last progress render per transfer */
    this.drawn = new Map();
    const e = this.el;
    e.button.addEventListener('click', () => e.input.click());
    e.input.addEventListener('change', () => {
      const files = [...(e.input.files ?? [])];
      e.input.value = '';
      if (files.length) this.ask(files);
    });
    e.dialog.addEventListener('close', () => {
      if (e.dialog.returnValue === 'send' && this.picked.length && e.to.value) {
        this.emit('send', { files: this.picked, to: e.to.value });
      }
      this.picked = [];
    });
    // Drag and drop onto the call, and paste: the same dialog.
    let depth = 0;
    const hasFiles = (/** @type {DragEvent} */ ev) => [...(ev.dataTransfer?.types ?? [])].includes('Files');
    e.call.addEventListener('dragenter', (ev) => {
      if (!hasFiles(ev) || !host.active()) return;
      depth += 1;
      e.drop.hidden = false;
    });
    e.call.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) e.drop.hidden = true;
    });
    e.call.addEventListener('dragover', (ev) => {
      if (!hasFiles(ev) || !host.active()) return;
      ev.preventDefault();
      if (ev.dataTransfer) ev.dataTransfer.dropEffect = 'copy';
    });
    e.call.addEventListener('drop', (ev) => {
      depth = 0;
      e.drop.hidden = true;
      const files = [...(ev.dataTransfer?.files ?? [])];
      if (!files.length || !host.active()) return;
      ev.preventDefault();
      this.ask(files);
    });
    document.addEventListener('paste', (ev) => {
      const files = [...(ev.clipboardData?.files ?? [])];
      if (!files.length || !host.active()) return;
      ev.preventDefault();
      this.ask(files);
    });
  }

  /**
   * Shows the "send to" dialog for `files`: everyone, or one person.
   * @param {File[]} files
   */
  ask(files) {
    const e = this.el;
    this.picked = files;
    e.list.replaceChildren(...files.map((f) => {
      const li = document.createElement('li');
      li.textContent = `${f.name || 'file'} (${formatBytes(f.size)})`;
      return li;
    }));
    const peers = this.host.peers();
    const opts = [];
    if (peers.length > 1) opts.push(new Option(`Everyone (${peers.length} people)`, '*'));
    for (const p of peers) opts.push(new Option(p.name, p.tab));
    e.to.replaceChildren(...opts);
    e.to.disabled = peers.length === 0;
    e.go.disabled = peers.length === 0;
    e.note.textContent = peers.length === 0
      ? 'Nobody is connected yet: files go straight to the people in the call.'
      : 'Each person is asked first. Files go straight to them, encrypted end to end; the server never sees them.';
    if (!e.dialog.open) {
      e.dialog.returnValue = ''; // Escape keeps the last value: never "send" by accident
      e.dialog.showModal();
    }
  }

  /**
   * A transfer appeared or changed.
   * @param {Transfer} t
   */
  update(t) {
    let item = this.items.get(t.group);
    if (!item) item = this.addItem(t);
    let r = item.rows.get(t.id);
    if (!r) r = this.addRow(item, t);
    // Progress at most every 200 ms; state changes at once.
    const now = performance.now();
    if (r.state === t.state && now - (this.drawn.get(t.id) ?? 0) < 200) return;
    this.drawn.set(t.id, now);
    const stateChanged = r.state !== t.state;
    r.state = t.state;
    r.row.dataset.state = t.state;
    const p = progressOf(t);
    r.bar.value = p.percent;
    r.bar.hidden = !['sending', 'receiving', 'paused', 'verifying'].includes(t.state);
    r.status.textContent = statusText(t, this.host.name(t.tab));
    if (stateChanged) this.renderActions(item, r, t);
  }

  /** @param {Transfer} t */
  addItem(t) {
    const li = document.createElement('li');
    li.className = t.dir === 'out' ? 'chat-msg file-item mine' : 'chat-msg file-item';
    li.dataset.group = t.group;
    const who = t.dir === 'out' ? 'You' : this.host.name(t.tab);
    const head = ChatView.meta(who, Date.now());
    const name = document.createElement('p');
    name.className = 'file-name';
    const strong = document.createElement('strong');
    strong.textContent = t.name;
    name.append(strong, ` (${formatBytes(t.size)})`);
    li.append(head, name);
    const item = { li, rows: new Map(), url: '' };
    this.items.set(t.group, item);
    this.chat.append(li, t.dir === 'out');
    return item;
  }

  /**
   * @param {{li: HTMLElement, rows: Map<string, any>, url: string}} item
   * @param {Transfer} t
   */
  addRow(item, t) {
    const row = document.createElement('div');
    row.className = 'file-row';
    const label = t.dir === 'out' ? `${t.name} to ${this.host.name(t.tab)}` : t.name;
    if (t.dir === 'out') {
      const who = document.createElement('span');
      who.className = 'file-peer';
      who.textContent = `To ${this.host.name(t.tab)}`;
      row.append(who);
    }
    const bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute('aria-label', label);
    const status = document.createElement('p');
    status.className = 'file-status';
    const actions = document.createElement('div');
    actions.className = 'file-actions';
    row.append(bar, status, actions);
    item.li.append(row);
    const r = { row, bar, status, actions, state: '' };
    item.rows.set(t.id, r);
    return r;
  }

  /**
   * @param {{li: HTMLElement, rows: Map<string, any>, url: string}} item
   * @param {{actions: HTMLElement}} r
   * @param {Transfer} t
   */
  renderActions(item, r, t) {
    /** @param {string} text @param {string} aria @param {() => void} fn @param {string} [cls] */
    const labelled = (text, aria, fn, cls = '') => {
      const b = button(text, cls, fn);
      b.setAttribute('aria-label', aria);
      return b;
    };
    /** @type {HTMLElement[]} */
    const out = [];
    const who = this.host.name(t.tab);
    if (t.state === 'asking') {
      out.push(labelled('Accept', `Accept ${t.name}`, () => this.emit('accept', { transfer: t }), 'primary'));
      out.push(labelled('Decline', `Decline ${t.name}`, () => this.emit('decline', { transfer: t })));
    } else if (['offered', 'sending', 'receiving', 'paused'].includes(t.state)) {
      const aria = t.dir === 'out' ? `Cancel sending ${t.name} to ${who}` : `Cancel receiving ${t.name}`;
      out.push(labelled('Cancel', aria, () => this.emit('cancel', { transfer: t })));
    } else if (t.state === 'done' && t.dir === 'in' && t.result) {
      if (!item.url) item.url = URL.createObjectURL(t.result);
      const a = document.createElement('a');
      a.className = 'button primary';
      a.href = item.url;
      a.download = t.name;
      a.textContent = 'Save';
      a.setAttribute('aria-label', `Save ${t.name}`);
      out.push(a);
    }
    r.actions.replaceChildren(...out);
    if (t.state === 'asking') this.chat.el.button.classList.add('has-offer');
    else if (![...this.items.values()].some((i) => [...i.rows.values()].some((x) => x.state === 'asking'))) {
      this.chat.el.button.classList.remove('has-offer');
    }
  }

  /** Leaving the call: the saved-file links stop working. */
  clear() {
    for (const item of this.items.values()) if (item.url) URL.revokeObjectURL(item.url);
    this.items.clear();
    this.drawn.clear();
    if (this.el.dialog.open) this.el.dialog.close();
  }
}
