// @ts-check
// card-view.js: the DOM of user cards. `CardEditor` is the dialog where
// the owner edits, exports, imports and deletes their card, picks what is
// shared and with whom, and manages saved contacts (start page, pre-join
// screen, call). `CardTiles` shows on each remote tile what that person
// shared, whether it is a known contact, and our per-person choices:
// share now, stop sharing, and the non-modal "ask" prompt. Every peer
// string goes in as text, never as HTML; only http(s) links are links.

import { Emitter } from './emitter.js';
import {
  CardKey, FIELDS, LIMITS, cleanFields, deleteAllContacts, deleteCard, deleteContact, exportCard, goodAvatar, idbKeyStore,
  linkOf, loadCard, loadContacts, loadSharing, parseExport, saveCard, saveSharing,
} from './card.js';

/** @typedef {import('./card.js').CardFields} CardFields */
/** @typedef {import('./card.js').Sharing} Sharing */
/** @typedef {import('./card.js').PeerCard} PeerCard */
/** @typedef {import('./card.js').KeyStore} KeyStore */

const FIELD_LABEL = Object.freeze({ name: 'Display name', avatar: 'Picture', pronouns: 'Pronouns', status: 'Status', links: 'Links and contact lines' });
const MODE_LABEL = Object.freeze({
  everyone: 'With everyone I call',
  ask: 'Ask me for each person',
  never: 'Never',
});
/** Largest image file we try to read for a picture. */
const IMAGE_FILE_MAX = 20 * 1024 * 1024;

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {{class?: string, text?: string, attrs?: Record<string, string>}} [o]
 * @param {Array<Node | string>} [kids]
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(tag, o = {}, kids = []) {
  const el = document.createElement(tag);
  if (o.class) el.className = o.class;
  if (o.text !== undefined) el.textContent = o.text;
  for (const [k, v] of Object.entries(o.attrs ?? {})) el.setAttribute(k, v);
  el.append(...kids);
  return el;
}

/** @param {string} text @param {string} [cls] */
function button(text, cls = '') {
  const b = h('button', { class: cls, text, attrs: { type: 'button' } });
  return b;
}

let uid = 0;
/** @param {string} p */
function newId(p) {
  uid += 1;
  return `${p}-${uid}`;
}

/**
 * A picture chosen by the owner, made into a small square: centre crop,
 * 128 px (smaller if needed), WebP (JPEG where the browser cannot make
 * WebP), at most 64 KiB as a data: URL. Done here, in the browser.
 * @param {Blob} file
 * @returns {Promise<string>}
 */
export async function resizeAvatar(file) {
  if (file.size > IMAGE_FILE_MAX) throw new Error('That picture is too large (over 20 MB).');
  let bmp;
  try {
    bmp = await createImageBitmap(file);
  } catch {
    throw new Error('That file is not a picture this browser can read.');
  }
  const side = Math.min(bmp.width, bmp.height);
  for (const [px, q] of [[128, 0.85], [128, 0.6], [96, 0.6], [64, 0.5], [48, 0.4]]) {
    const c = document.createElement('canvas');
    c.width = px;
    c.height = px;
    const g = c.getContext('2d');
    if (!g) break;
    g.drawImage(bmp, (bmp.width - side) / 2, (bmp.height - side) / 2, side, side, 0, 0, px, px);
    let url = c.toDataURL('image/webp', q);
    if (!url.startsWith('data:image/webp')) url = c.toDataURL('image/jpeg', q);
    if (goodAvatar(url)) {
      bmp.close();
      return url;
    }
  }
  bmp.close();
  throw new Error('That picture could not be made small enough.');
}

/** An avatar: the picture, or initials. @param {string} avatar @param {string} name @param {string} cls */
function avatarEl(avatar, name, cls) {
  if (avatar) return h('img', { class: cls, attrs: { src: avatar, alt: '' } });
  const words = name.trim().split(/\s+/).filter(Boolean);
  const text = words.length ? ([...words[0]][0] + (words.length > 1 ? [...words[words.length - 1]][0] : '')).toUpperCase() : '?';
  return h('span', { class: `${cls} card-initials`, text, attrs: { 'aria-hidden': 'true' } });
}

/**
 * The card itself, as others see it: picture, name, pronouns, status,
 * links (http(s) as links, anything else as text), the key's fingerprint.
 * @param {CardFields} c
 * @param {string} fp
 */
export function cardBody(c, fp) {
  const head = h('div', { class: 'card-head' }, [avatarEl(c.avatar, c.name, 'card-avatar')]);
  const who = h('div', { class: 'card-who' });
  who.append(h('p', { class: 'card-name', text: c.name || 'No name shared' }));
  if (c.pronouns) who.append(h('p', { class: 'card-pronouns', text: c.pronouns }));
  head.append(who);
  const body = h('div', { class: 'card-body' }, [head]);
  if (c.status) body.append(h('p', { class: 'card-status', text: c.status }));
  if (c.links.length) {
    const ul = h('ul', { class: 'card-links', attrs: { 'aria-label': 'Links and contact lines' } });
    for (const line of c.links) {
      const l = linkOf(line);
      const li = h('li');
      if (l.href) {
        const a = h('a', { text: l.text, attrs: { href: l.href, target: '_blank', rel: 'noopener noreferrer', referrerpolicy: 'no-referrer' } });
        li.append(a);
      } else {
        li.append(l.text);
      }
      ul.append(li);
    }
    body.append(ul);
  }
  if (fp) body.append(h('p', { class: 'card-fp', text: `Key ${fp}`, attrs: { title: 'The short fingerprint of the key that signed this card' } }));
  return body;
}

/**
 * The card editor, a modal dialog built here so that every page that
 * offers it needs only a button. Events: `saved` {card}, `deleted` {},
 * `contacts` {} (the saved contacts changed).
 * @extends {Emitter<{saved: {card: CardFields}, deleted: {}, contacts: {}}>}
 */
export class CardEditor extends Emitter {
  /** @param {{keys?: KeyStore}} [opts] */
  constructor(opts = {}) {
    super();
    this.keys = opts.keys ?? idbKeyStore();
    this.avatar = '';
    // The elements, made by build().
    const none = /** @type {never} */ (null);
    /** @type {HTMLDialogElement} */ this.dialog = none;
    /** @type {HTMLFormElement} */ this.form = none;
    /** @type {HTMLElement} */ this.fp = none;
    /** @type {HTMLInputElement} */ this.name = none;
    /** @type {HTMLInputElement} */ this.pronouns = none;
    /** @type {HTMLInputElement} */ this.status = none;
    /** @type {HTMLInputElement[]} */ this.links = [];
    /** @type {HTMLElement} */ this.preview = none;
    /** @type {HTMLInputElement} */ this.file = none;
    /** @type {HTMLButtonElement} */ this.removePic = none;
    /** @type {HTMLElement} */ this.picNote = none;
    /** @type {HTMLInputElement[]} */ this.modes = [];
    /** @type {Record<string, HTMLInputElement>} */ this.fieldBoxes = {};
    /** @type {HTMLElement} */ this.msg = none;
    /** @type {HTMLInputElement} */ this.importFile = none;
    /** @type {HTMLElement} */ this.confirm = none;
    /** @type {HTMLElement} */ this.contacts = none;
    /** @type {HTMLElement} */ this.noContacts = none;
    /** @type {HTMLButtonElement} */ this.clearContacts = none;
    this.build();
  }

  build() {
    const d = h('dialog', { class: 'card-dialog', attrs: { 'aria-labelledby': 'card-h', 'aria-describedby': 'card-intro' } });
    // Shortcuts of the call (M, V, L...) must not fire while editing.
    d.addEventListener('keydown', (ev) => ev.stopPropagation());
    const form = h('form', { class: 'card-form', attrs: { novalidate: '' } });
    const close = button('✕', 'card-x');
    close.setAttribute('aria-label', 'Close');
    close.addEventListener('click', () => d.close());
    form.append(h('header', { class: 'card-top' }, [h('h2', { text: 'Your card', attrs: { id: 'card-h' } }), close]));
    form.append(h('p', {
      class: 'muted card-intro', attrs: { id: 'card-intro' },
      text: 'Your card stays in this browser. It goes only to people in a call, browser to browser and encrypted, as you choose below; ' +
        'never to this server. It is signed with a key made in this browser, so others can tell it is yours.',
    }));
    this.fp = h('p', { class: 'card-fp', attrs: { 'aria-live': 'polite' } });
    form.append(this.fp);

    /** @param {string} label @param {string} name @param {number} max @param {string} [hint] */
    const text = (label, name, max, hint) => {
      const id = newId('card');
      const input = h('input', { attrs: { id, name, type: 'text', maxlength: String(max), autocomplete: 'off', spellcheck: 'false' } });
      const l = h('label', { attrs: { for: id } }, [label]);
      if (hint) l.append(' ', h('span', { class: 'muted', text: hint }));
      form.append(l, input);
      return input;
    };
    this.name = text('Display name', 'name', LIMITS.name, '(the name shown in calls)');

    // The picture: resized here to a small square.
    const picId = newId('card-pic');
    this.preview = h('span', { class: 'card-pic' });
    this.file = h('input', { class: 'visually-hidden', attrs: { id: picId, type: 'file', accept: 'image/png,image/jpeg,image/webp,image/gif' } });
    const choose = h('label', { class: 'button', attrs: { for: picId }, text: 'Choose a picture' });
    this.file.addEventListener('focus', () => choose.classList.add('focused'));
    this.file.addEventListener('blur', () => choose.classList.remove('focused'));
    this.removePic = button('Remove picture');
    this.picNote = h('p', { class: 'note', attrs: { role: 'status' } });
    form.append(h('fieldset', { class: 'card-picture' }, [
      h('legend', { text: 'Picture' }), this.preview, this.file, choose, this.removePic, this.picNote,
    ]));
    this.file.addEventListener('change', () => this.pickPicture());
    this.removePic.addEventListener('click', () => {
      this.avatar = '';
      this.renderPicture();
    });

    this.pronouns = text('Pronouns', 'pronouns', LIMITS.pronouns);
    this.status = text('Status', 'status', LIMITS.status, '(one line)');
    const links = h('fieldset', { class: 'card-linkset' }, [h('legend', { text: `Links or contact lines (up to ${LIMITS.links})` })]);
    for (let i = 0; i < LIMITS.links; i++) {
      const input = h('input', { attrs: { type: 'text', maxlength: String(LIMITS.link), 'aria-label': `Link or contact line ${i + 1}`, autocomplete: 'off', spellcheck: 'false' } });
      this.links.push(input);
      links.append(input);
    }
    form.append(links);

    const mode = h('fieldset', { class: 'card-mode' }, [h('legend', { text: 'Share my card' })]);
    for (const [m, label] of Object.entries(MODE_LABEL)) {
      const r = h('input', { attrs: { type: 'radio', name: 'card-mode', value: m } });
      this.modes.push(r);
      mode.append(h('label', { class: 'check' }, [r, ` ${label}`]));
    }
    const fields = h('fieldset', { class: 'card-fields' }, [h('legend', { text: 'What I share' })]);
    for (const f of FIELDS) {
      const c = h('input', { attrs: { type: 'checkbox', name: `share-${f}` } });
      this.fieldBoxes[f] = c;
      fields.append(h('label', { class: 'check' }, [c, ` ${FIELD_LABEL[f]}`]));
    }
    form.append(mode, fields);

    this.msg = h('p', { class: 'card-msg', attrs: { role: 'status' } });
    const save = h('button', { class: 'primary', text: 'Save', attrs: { type: 'submit' } });
    const cancel = button('Cancel');
    cancel.addEventListener('click', () => d.close());
    form.append(this.msg, h('div', { class: 'actions' }, [save, cancel]));

    // Backup and deletion.
    const exp = button('Export as a file');
    exp.addEventListener('click', () => this.exportFile());
    const impId = newId('card-import');
    this.importFile = h('input', { class: 'visually-hidden', attrs: { id: impId, type: 'file', accept: 'application/json,.json' } });
    const imp = h('label', { class: 'button', attrs: { for: impId }, text: 'Import a file' });
    this.importFile.addEventListener('focus', () => imp.classList.add('focused'));
    this.importFile.addEventListener('blur', () => imp.classList.remove('focused'));
    this.importFile.addEventListener('change', () => this.importCard());
    const del = button('Delete my card…', 'danger-text');
    this.confirm = h('div', { class: 'card-confirm', attrs: { role: 'group', 'aria-label': 'Delete my card?' } });
    this.confirm.hidden = true;
    const yes = button('Delete my card', 'danger');
    const no = button('Keep it');
    this.confirm.append(h('p', { text: 'This removes your card, its picture, your sharing choices and your signing key from this browser. Export it first to keep a copy.' }), yes, no);
    del.addEventListener('click', () => {
      this.confirm.hidden = false;
      no.focus();
    });
    no.addEventListener('click', () => {
      this.confirm.hidden = true;
      del.focus();
    });
    yes.addEventListener('click', () => this.deleteAll());
    form.append(h('section', { class: 'card-more', attrs: { 'aria-label': 'Backup and deletion' } }, [
      h('h3', { text: 'Backup' }), h('div', { class: 'actions' }, [exp, this.importFile, imp, del]), this.confirm,
    ]));

    this.contacts = h('ul', { class: 'card-contacts' });
    this.noContacts = h('p', { class: 'muted', text: 'No saved contacts. Save someone\'s card from their tile in a call.' });
    const clear = button('Delete all contacts');
    clear.addEventListener('click', () => {
      deleteAllContacts();
      this.renderContacts();
      this.emit('contacts', {});
    });
    this.clearContacts = clear;
    form.append(h('section', { class: 'card-more', attrs: { 'aria-labelledby': 'card-contacts-h' } }, [
      h('h3', { text: 'Saved contacts', attrs: { id: 'card-contacts-h' } }),
      h('p', { class: 'muted', text: 'Kept in this browser only. When a saved contact\'s key is seen again, their tile says “known contact”; a different key under a saved name is flagged.' }),
      this.noContacts, this.contacts, clear,
    ]));

    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.save();
    });
    d.append(form);
    document.body.append(d);
    this.dialog = d;
    this.form = form;
  }

  /** Buttons (by id) that open the editor; missing ones are skipped. @param {string[]} ids */
  bindOpeners(ids) {
    for (const id of ids) document.getElementById(id)?.addEventListener('click', () => this.open());
  }

  async open() {
    this.fill(loadCard(), loadSharing());
    this.msg.textContent = '';
    this.picNote.textContent = '';
    this.confirm.hidden = true;
    this.renderContacts();
    if (!this.dialog.open) this.dialog.showModal();
    this.name.focus();
    this.fp.textContent = 'Key: …';
    try {
      const key = await CardKey.load(this.keys, true);
      this.fp.textContent = key ? `Your key's fingerprint: ${key.fp}` : 'No key: this browser cannot sign cards.';
    } catch {
      this.fp.textContent = 'No key: this browser cannot sign cards (no Ed25519 or no IndexedDB).';
    }
  }

  /** @param {CardFields} c @param {Sharing} s */
  fill(c, s) {
    this.name.value = c.name;
    this.pronouns.value = c.pronouns;
    this.status.value = c.status;
    this.links.forEach((input, i) => { input.value = c.links[i] ?? ''; });
    this.avatar = c.avatar;
    this.renderPicture();
    for (const r of this.modes) r.checked = r.value === s.mode;
    for (const f of FIELDS) this.fieldBoxes[f].checked = s.fields[f];
  }

  renderPicture() {
    this.preview.replaceChildren(avatarEl(this.avatar, this.name.value, 'card-avatar'));
    this.removePic.hidden = !this.avatar;
  }

  async pickPicture() {
    const f = this.file.files?.[0];
    if (!f) return;
    this.picNote.textContent = 'Resizing…';
    try {
      this.avatar = await resizeAvatar(f);
      this.picNote.textContent = `Picture ready (${Math.ceil(this.avatar.length / 1024)} KiB, resized here). Save to keep it.`;
    } catch (e) {
      this.picNote.textContent = e instanceof Error ? e.message : String(e);
    }
    this.file.value = '';
    this.renderPicture();
  }

  /** @returns {CardFields} */
  read() {
    return cleanFields({
      name: this.name.value, avatar: this.avatar, pronouns: this.pronouns.value, status: this.status.value,
      links: this.links.map((i) => i.value),
    });
  }

  /** @returns {Sharing} */
  readSharing() {
    const mode = /** @type {import('./card.js').ShareMode} */ (this.modes.find((r) => r.checked)?.value ?? 'everyone');
    /** @type {Record<import('./card.js').Field, boolean>} */
    const fields = { name: true, avatar: true, pronouns: true, status: true, links: true };
    for (const f of FIELDS) fields[f] = this.fieldBoxes[f].checked;
    return { mode, fields };
  }

  save() {
    const card = this.read();
    if (!saveCard(card) || !saveSharing(this.readSharing())) {
      this.msg.textContent = 'This browser refused to store the card (private mode or no space left).';
      return;
    }
    this.emit('saved', { card });
    this.dialog.close();
  }

  async exportFile() {
    let fp = '';
    try {
      fp = (await CardKey.load(this.keys, false))?.fp ?? '';
    } catch { /* no key */ }
    const blob = new Blob([exportCard(this.read(), this.readSharing(), fp)], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = h('a', { attrs: { href: url, download: 'xroom-card.json' } });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    this.msg.textContent = 'Exported as xroom-card.json. The file holds your card and sharing choices, not your key.';
  }

  async importCard() {
    const f = this.importFile.files?.[0];
    this.importFile.value = '';
    if (!f) return;
    const r = parseExport(await f.text());
    if (!r.ok) {
      this.msg.textContent = `Not imported: ${r.reason}`;
      return;
    }
    this.fill(r.card, r.sharing);
    this.msg.textContent = 'Imported. Check it, then Save.';
  }

  async deleteAll() {
    try {
      await deleteCard(this.keys);
    } catch {
      this.msg.textContent = 'The signing key could not be deleted.';
    }
    this.fill(loadCard(), loadSharing());
    this.confirm.hidden = true;
    this.fp.textContent = 'Card deleted. A new key is made when you next use your card.';
    this.msg.textContent = 'Your card, sharing choices and key are deleted from this browser.';
    this.emit('deleted', {});
  }

  renderContacts() {
    const list = loadContacts();
    this.contacts.replaceChildren(...list.map((c) => {
      const del = button('Delete');
      del.setAttribute('aria-label', `Delete contact ${c.name || c.fp}`);
      del.addEventListener('click', () => {
        deleteContact(c.pub);
        this.renderContacts();
        this.emit('contacts', {});
      });
      return h('li', {}, [avatarEl(c.card.avatar, c.name, 'card-avatar small'), h('span', { class: 'card-contact-name', text: c.name || '(no name)' }),
        h('span', { class: 'card-fp', text: c.fp }), del]);
    }));
    this.noContacts.hidden = list.length > 0;
    this.clearContacts.hidden = list.length === 0;
  }
}

/**
 * @typedef {{root: HTMLElement, chip: HTMLButtonElement, pop: HTMLElement, ask: HTMLElement, note: HTMLElement,
 *   img: HTMLImageElement | null, open: boolean, pending: boolean, name: string, view: PeerCard | null}} TileCard
 */

/**
 * Cards on the remote tiles. It is told each peer's state (`render`) and
 * reports what the user chose. Events: share, not-now, revoke,
 * save-contact, forget-contact, each {tab}.
 * @extends {Emitter<{share: {tab: string}, 'not-now': {tab: string}, revoke: {tab: string},
 *   'save-contact': {tab: string}, 'forget-contact': {tab: string}}>}
 */
export class CardTiles extends Emitter {
  /**
   * @param {{tileEl: (tab: string) => HTMLElement | null, nameOf: (tab: string) => string, announce: (text: string) => void}} host
   */
  constructor(host) {
    super();
    this.host = host;
    /** @type {Map<string, TileCard>} */
    this.tiles = new Map();
  }

  /** @param {string} tab @returns {TileCard | null} */
  ensure(tab) {
    const el = this.host.tileEl(tab);
    if (!el) return null;
    let t = this.tiles.get(tab);
    if (t && t.root.isConnected && el.contains(t.root)) return t;
    const root = h('div', { class: 'tile-card' });
    const chip = /** @type {HTMLButtonElement} */ (button('Card', 'card-chip'));
    const popId = newId('card-pop');
    chip.setAttribute('aria-expanded', 'false');
    chip.setAttribute('aria-controls', popId);
    const pop = h('div', { class: 'card-pop', attrs: { id: popId, role: 'dialog' } });
    pop.hidden = true;
    const ask = h('div', { class: 'card-ask', attrs: { role: 'group' } });
    ask.hidden = true;
    const note = h('p', { class: 'card-note', attrs: { role: 'status' } });
    note.hidden = true;
    root.append(chip, ask, note);
    el.append(root, pop);
    t = { root, chip, pop, ask, note, img: null, open: false, pending: false, name: '', view: null };
    const tc = t;
    chip.addEventListener('click', () => this.setOpen(tab, !tc.open));
    pop.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.stopPropagation();
        this.setOpen(tab, false);
        chip.focus();
      }
    });
    this.tiles.set(tab, t);
    return t;
  }

  /** @param {string} tab @param {boolean} open */
  setOpen(tab, open) {
    const t = this.tiles.get(tab);
    if (!t) return;
    t.open = open;
    t.pop.hidden = !open;
    t.chip.setAttribute('aria-expanded', String(open));
    // The card is in the DOM only while shown.
    if (open && t.view) this.renderPop(t, tab, t.name || 'this person', t.view);
    else t.pop.replaceChildren();
    if (open) t.pop.querySelector('button')?.focus();
  }

  /**
   * Shows what a peer shared and our choices for them.
   * @param {string} tab
   * @param {PeerCard} v
   */
  render(tab, v) {
    const t = this.ensure(tab);
    if (!t) return;
    t.name = this.host.nameOf(tab);
    t.view = v;
    const name = t.name || 'this person';
    const r = v.received;
    const el = /** @type {HTMLElement} */ (t.root.parentElement);

    // The chip: what they shared, at a glance.
    let chip = 'No card';
    let kind = 'none';
    if (r.state === 'card') {
      chip = r.contact === 'known' ? 'Known contact' : r.contact === 'changed' ? 'Key changed!' : 'Card';
      kind = r.contact === 'changed' ? 'changed' : r.contact === 'known' ? 'known' : 'card';
    } else if (r.state === 'rejected') {
      chip = 'Card rejected';
      kind = 'rejected';
    } else if (r.state === 'revoked') {
      chip = 'Card withdrawn';
      kind = 'revoked';
    }
    t.chip.textContent = chip;
    t.chip.dataset.kind = kind;
    el.dataset.card = kind;
    t.chip.setAttribute('aria-label', `Cards: ${name}'s and yours. ${chip}`);
    t.chip.title = `${name}'s card, and whether ${name} gets yours`;
    // Nobody here uses cards: no chip to clutter the tile.
    t.chip.hidden = r.state === 'none' && !v.mine;
    if (t.chip.hidden && t.open) this.setOpen(tab, false);

    // Their picture instead of initials when no video shows.
    const avatar = r.state === 'card' ? r.card.avatar : '';
    if (avatar) {
      if (!t.img) {
        t.img = /** @type {HTMLImageElement} */ (h('img', { class: 'tile-card-avatar', attrs: { alt: '' } }));
        el.querySelector('.tile-off')?.prepend(t.img);
      }
      if (t.img.getAttribute('src') !== avatar) t.img.src = avatar;
      el.dataset.cardAvatar = 'on';
    } else {
      t.img?.remove();
      t.img = null;
      delete el.dataset.cardAvatar;
    }

    // A visible note for what just happened to their card.
    const notes = {
      rejected: `${name}'s card was rejected: ${r.state === 'rejected' && r.reason === 'signature' ? 'its signature does not match its contents' : 'it is malformed'}.`,
      revoked: `${name} stopped sharing their card; it was removed here.`,
      changed: `Warning: ${name}'s key differs from the one you saved for “${r.state === 'card' ? r.savedAs : ''}”.`,
    };
    const noteText = /** @type {Record<string, string>} */ (notes)[kind] ?? '';
    t.note.textContent = noteText;
    t.note.hidden = !noteText;
    t.note.dataset.kind = kind;

    // The ask prompt: non-modal, on the tile.
    const asking = v.decision === 'pending' && v.mode === 'ask' && v.mine;
    if (asking && !t.pending) this.host.announce(`Share your card with ${name}? The choice is on ${name}'s tile.`);
    t.pending = asking;
    t.ask.hidden = !asking;
    const q = `Share your card with ${name}?`;
    if (!asking) {
      t.ask.replaceChildren();
      t.ask.removeAttribute('aria-label');
    } else if (t.ask.getAttribute('aria-label') !== q) {
      // Built once per question, so a re-render keeps the focus.
      t.ask.setAttribute('aria-label', q);
      const yes = button('Share my card', 'primary');
      yes.addEventListener('click', () => this.emit('share', { tab }));
      const no = button('Not now');
      no.addEventListener('click', () => this.emit('not-now', { tab }));
      t.ask.replaceChildren(h('p', { text: q }), yes, no);
    }

    if (t.open) this.renderPop(t, tab, name, v);
  }

  /** @param {TileCard} t @param {string} tab @param {string} name @param {PeerCard} v */
  renderPop(t, tab, name, v) {
    const r = v.received;
    const focusedText = t.pop.contains(document.activeElement) ? document.activeElement?.textContent : null;
    t.pop.setAttribute('aria-label', `${name}'s card`);
    const close = button('✕', 'card-x');
    close.setAttribute('aria-label', 'Close');
    close.addEventListener('click', () => {
      this.setOpen(tab, false);
      t.chip.focus();
    });
    const theirs = h('section', { class: 'card-theirs' }, [h('h3', { text: `${name}'s card` })]);
    if (r.state === 'card') {
      theirs.append(cardBody(r.card, r.fp));
      const trust = h('p', { class: `card-trust ${r.contact}` });
      if (r.contact === 'known') trust.textContent = `Known contact: you saved this key${r.savedAs ? ` as “${r.savedAs}”` : ''}.`;
      else if (r.contact === 'changed') {
        trust.textContent = `This is not the key you saved for “${r.savedAs}”. It may be someone else using that name, or the same person on another browser. ` +
          'Compare the fingerprint with them before you trust it.';
      } else trust.textContent = 'Not a saved contact. Save it to recognise this key in later calls (trust on first use).';
      theirs.append(trust);
      const known = r.contact === 'known';
      const b = button(known ? 'Forget contact' : r.contact === 'changed' ? 'Save this key as a contact too' : 'Save as contact');
      b.addEventListener('click', () => this.emit(known ? 'forget-contact' : 'save-contact', { tab }));
      theirs.append(b);
      theirs.append(h('p', { class: 'muted small', text: 'Kept in memory for this call only, unless you save it.' }));
    } else if (r.state === 'rejected') {
      theirs.append(h('p', { class: 'card-trust changed', text: r.reason === 'signature'
        ? 'A card came, but its signature does not match its contents: it was altered after signing, so it is not shown.'
        : 'A card came, but it is malformed, so it is not shown.' }));
    } else if (r.state === 'revoked') {
      theirs.append(h('p', { class: 'muted', text: `${name} stopped sharing their card with you; it was removed.` }));
    } else {
      theirs.append(h('p', { class: 'muted', text: `${name} has not shared a card with you.` }));
    }

    const mine = h('section', { class: 'card-mine' }, [h('h3', { text: 'Your card' })]);
    if (!v.mine) {
      mine.append(h('p', { class: 'muted', text: 'You have no card yet. Make one with the card button in the controls; it is shared only as you choose there.' }));
    } else if (v.mode === 'never') {
      mine.append(h('p', { class: 'muted', text: 'Your sharing is set to “Never”: nobody gets your card. Change it in Your card.' }));
    } else if (v.decision === 'shared') {
      mine.append(h('p', { text: `${name} has your card.` }));
      const stop = button('Stop sharing');
      stop.setAttribute('aria-label', `Stop sharing your card with ${name}`);
      stop.addEventListener('click', () => this.emit('revoke', { tab }));
      mine.append(stop, h('p', { class: 'muted small', text: `Stopping asks ${name}'s browser to delete your card. xroom does; a modified app could keep a copy. Revocation relies on the other side.` }));
    } else {
      mine.append(h('p', { text: v.decision === 'revoked' ? `You stopped sharing your card with ${name}. Their browser was asked to delete it.` : `${name} does not have your card.` }));
      const share = button('Share my card', 'primary');
      share.setAttribute('aria-label', `Share your card with ${name}`);
      share.addEventListener('click', () => this.emit('share', { tab }));
      mine.append(share);
    }
    t.pop.replaceChildren(h('div', { class: 'card-pop-top' }, [close]), theirs, mine);
    if (focusedText) {
      const again = [...t.pop.querySelectorAll('button')].find((b) => b.textContent === focusedText);
      (again ?? close).focus();
    }
  }

  /** Whether the peer's name changed since its card was last drawn. @param {string} tab */
  renamed(tab) {
    const t = this.tiles.get(tab);
    return !!t && t.name !== this.host.nameOf(tab);
  }

  /** @param {string} tab */
  remove(tab) {
    const t = this.tiles.get(tab);
    t?.root.remove();
    t?.pop.remove();
    this.tiles.delete(tab);
  }
}
