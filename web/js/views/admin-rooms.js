// @ts-check
// admin-rooms.js: the rooms on the operator's dashboard (/admin): every
// live room and every configured one, with how many people are in it,
// since when, and its settings; a room's page to change its title, its
// cap, its lock and its expiry, to remove one person, or to close it.
// What removes or closes asks first, saying what will happen. The
// operator never sees who is in a room: people are numbered in the order
// they joined (the server knows them by random connection ids only).

import { AdminError } from '../features/admin-api.js';
import { button, byId, h } from './dom.js';

/** @typedef {import('../features/admin-api.js').AdminApi} AdminApi */
/** @typedef {import('../features/admin-api.js').Room} Room */
/** @typedef {import('../features/admin-api.js').RoomConfig} RoomConfig */

/** @param {number | null | undefined} s  unix seconds */
const when = (s) => (s == null ? '–' : new Date(s * 1000).toLocaleString());

/** The settings of a room in a few words. @param {Room} r */
export function settingsText(r) {
  const c = r.config;
  if (!r.configured || !c) return 'defaults';
  const parts = [];
  if (c.locked) parts.push('locked');
  if (c.max_peers != null) parts.push(`at most ${c.max_peers}`);
  if (c.expires_at != null) parts.push(`closes ${when(c.expires_at)}`);
  return parts.join(', ') || 'defaults';
}

/** Unix seconds to a datetime-local input's value (local time). @param {number | null} s */
export function toLocalInput(s) {
  if (s == null) return '';
  const d = new Date(s * 1000);
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A datetime-local input's value to unix seconds; null when empty. @param {string} v */
export function fromLocalInput(v) {
  if (!v) return null;
  const t = new Date(v).getTime();
  return Number.isFinite(t) ? Math.floor(t / 1000) : null;
}

export class RoomsView {
  /**
   * @param {() => AdminApi | null} api  the signed-in API, or null
   * @param {{say: (text: string) => void, signedOut: (e: AdminError) => void}} page
   */
  constructor(api, page) {
    this.api = api;
    this.page = page;
    this.list = byId('rooms');
    this.dialog = /** @type {HTMLDialogElement} */ (byId('room-dialog'));
    this.form = /** @type {HTMLFormElement} */ (byId('room-form'));
    this.confirmDialog = /** @type {HTMLDialogElement} */ (byId('confirm-dialog'));
    /** @type {Room | null} the room on the dialog */
    this.current = null;
    byId('rooms-refresh').addEventListener('click', () => { this.load(); });
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.save();
    });
    byId('room-cancel').addEventListener('click', () => this.dialog.close());
    byId('room-close').addEventListener('click', () => { this.closeRoom(); });
  }

  /** Asks for the rooms and lists them. */
  async load() {
    const api = this.api();
    if (!api) return;
    let rooms;
    try {
      rooms = await api.rooms();
    } catch (e) {
      this.failed(e);
      return;
    }
    this.render(rooms);
  }

  /** @param {Room[]} rooms */
  render(rooms) {
    this.list.replaceChildren();
    if (rooms.length === 0) {
      this.list.append(h('p', { class: 'muted', text: 'No room is open or configured.' }));
      return;
    }
    const head = h('tr', {}, ['Room', 'People', 'Open since', 'Settings', ''].map((t) => h('th', { text: t, attrs: { scope: 'col' } })));
    const body = h('tbody');
    for (const r of rooms) {
      body.append(h('tr', { attrs: { 'data-room': r.id } }, [
        h('td', {}, [h('code', { text: r.id })]),
        h('td', { text: String(r.peers) }),
        h('td', { text: r.created_at == null ? 'not open' : when(r.created_at) }),
        h('td', { text: r.configured ? 'configured' : 'defaults' }), // the list carries no settings: Manage shows them
        h('td', {}, [button('Manage…', '', () => { this.open(r.id); })]),
      ]));
      const manage = /** @type {HTMLButtonElement} */ (body.lastElementChild?.querySelector('button'));
      manage.setAttribute('aria-label', `Manage room ${r.id}`);
    }
    this.list.append(h('table', {}, [h('caption', { text: `${rooms.length} room${rooms.length === 1 ? '' : 's'}` }), h('thead', {}, [head]), body]));
  }

  /** The dialog for room `id`, with its current settings and members. @param {string} id */
  async open(id) {
    const api = this.api();
    if (!api) return;
    let r;
    try {
      r = await api.room(id);
    } catch (e) {
      this.failed(e);
      if (e instanceof AdminError && e.status === 404) this.load();
      return;
    }
    this.current = r;
    this.fill(r);
    if (!this.dialog.open) this.dialog.showModal();
  }

  /** @param {Room} r */
  fill(r) {
    const c = r.config ?? { max_peers: null, locked: false, expires_at: null, title: null };
    byId('room-dialog-h').textContent = `Room ${r.id}`;
    byId('room-summary').textContent = r.created_at == null
      ? 'Nobody is in it. Its settings apply when someone opens it.'
      : `${r.peers} ${r.peers === 1 ? 'person' : 'people'} in it, open since ${when(r.created_at)}. Settings: ${settingsText(r)}.`;
    /** @type {HTMLInputElement} */ (byId('room-title')).value = c.title ?? '';
    /** @type {HTMLInputElement} */ (byId('room-max')).value = c.max_peers == null ? '' : String(c.max_peers);
    /** @type {HTMLInputElement} */ (byId('room-locked')).checked = c.locked;
    /** @type {HTMLInputElement} */ (byId('room-expires')).value = toLocalInput(c.expires_at);
    byId('room-error').textContent = '';
    const members = byId('room-members');
    members.replaceChildren();
    (r.members ?? []).forEach((peer, i) => {
      members.append(h('li', {}, [
        h('span', { text: `Person ${i + 1} ` }), h('span', { class: 'muted', text: `(joined ${ordinal(i + 1)})` }), ' ',
        button('Remove…', 'danger', () => { this.kick(peer, i + 1); }),
      ]));
      /** @type {HTMLElement} */ (members.lastElementChild?.querySelector('button')).setAttribute('aria-label', `Remove person ${i + 1}`);
    });
    byId('room-members-none').hidden = (r.members ?? []).length > 0;
  }

  /** Stores what the form says (the whole config). */
  async save() {
    const api = this.api();
    const r = this.current;
    if (!api || !r) return;
    const max = /** @type {HTMLInputElement} */ (byId('room-max')).value.trim();
    const title = /** @type {HTMLInputElement} */ (byId('room-title')).value.trim();
    /** @type {RoomConfig} */
    const config = {
      title: title || null,
      max_peers: max ? Number(max) : null,
      locked: /** @type {HTMLInputElement} */ (byId('room-locked')).checked,
      expires_at: fromLocalInput(/** @type {HTMLInputElement} */ (byId('room-expires')).value),
    };
    try {
      this.current = await api.configure(r.id, config);
    } catch (e) {
      if (e instanceof AdminError && e.status === 400) {
        byId('room-error').textContent = `Not saved: ${e.message}`;
        return;
      }
      this.failed(e);
      return;
    }
    this.dialog.close();
    this.page.say(`Room ${r.id} saved: ${settingsText(this.current)}.`);
    this.load();
  }

  /** @param {string} peer @param {number} n  its place in join order */
  async kick(peer, n) {
    const api = this.api();
    const r = this.current;
    if (!api || !r) return;
    const ok = await this.confirm(`Remove person ${n}?`,
      `Person ${n} is disconnected from room ${r.id} and told they were removed. They can come back with the link unless you lock the room.`, 'Remove');
    if (!ok) return;
    try {
      await api.kick(r.id, peer);
      this.page.say(`Person ${n} was removed from room ${r.id}.`);
    } catch (e) {
      this.failed(e);
    }
    this.open(r.id);
  }

  async closeRoom() {
    const api = this.api();
    const r = this.current;
    if (!api || !r) return;
    const people = r.peers === 1 ? 'The person in it is' : `The ${r.peers} people in it are`;
    const ok = await this.confirm(`Close room ${r.id}?`,
      `${r.peers ? `${people} disconnected and told the room was closed. ` : ''}Its settings are forgotten. Anyone with the link can open it again unless you configure it again.`, 'Close room');
    if (!ok) return;
    try {
      const done = await api.close(r.id);
      this.page.say(`Room ${r.id} was closed (${done.closed_peers} disconnected).`);
    } catch (e) {
      this.failed(e);
    }
    this.dialog.close();
    this.load();
  }

  /**
   * Asks first: resolves true when the operator confirms.
   * @param {string} title @param {string} text @param {string} action
   * @returns {Promise<boolean>}
   */
  confirm(title, text, action) {
    const d = this.confirmDialog;
    byId('confirm-h').textContent = title;
    byId('confirm-text').textContent = text;
    byId('confirm-ok').textContent = action;
    d.returnValue = '';
    d.showModal();
    return new Promise((resolve) => d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true }));
  }

  /** @param {unknown} e */
  failed(e) {
    if (e instanceof AdminError && e.status === 401) this.page.signedOut(e);
    else this.page.say(e instanceof AdminError ? e.message : 'Something went wrong.');
  }
}

/** 1st, 2nd, 3rd, 4th… @param {number} n */
function ordinal(n) {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${s}`;
}
