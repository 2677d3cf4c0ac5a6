// @ts-check
// card-editor.js: the dialog where the owner edits, exports, imports and
// deletes their card, picks what is shared and with whom, and manages
// saved contacts (start page, pre-join screen, call); and the picture,
// resized here to a small square. Built here, so that every page that
// offers it needs only a button.

import { Emitter } from '../util/emitter.js';
import { CardKey, idbKeyStore } from '../features/cards/key.js';
import { FIELDS, LIMITS, cleanFields, exportCard, goodAvatar, parseExport } from '../features/cards/model.js';
import {
  deleteAllContacts, deleteCard, deleteContact, loadCard, loadContacts, loadSharing, saveCard, saveSharing,
} from '../features/cards/saved.js';
import { avatarEl } from './card-body.js';
import { button, elementId as newId, h } from './dom.js';

/** @typedef {import('../features/cards/model.js').CardFields} CardFields */
/** @typedef {import('../features/cards/model.js').Sharing} Sharing */
/** @typedef {import('../features/cards/key.js').KeyStore} KeyStore */

const FIELD_LABEL = Object.freeze({ name: 'Display name', avatar: 'Picture', pronouns: 'Pronouns', status: 'Status', links: 'Links and contact lines' });
const MODE_LABEL = Object.freeze({
  everyone: 'With everyone I call',
  ask: 'Ask me for each person',
  never: 'Never',
});
/** Largest image file we try to read for a picture. */
const IMAGE_FILE_MAX = 20 * 1024 * 1024;

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
    const mode = /** @type {import('../features/cards/model.js').ShareMode} */ (this.modes.find((r) => r.checked)?.value ?? 'everyone');
    /** @type {Record<import('../features/cards/model.js').Field, boolean>} */
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
