// @ts-check
// card-tiles.js: user cards on the remote tiles. Each tile shows a chip
// with what that person shared ("Card", "Known contact", "Key changed!",
// "Card rejected", "Card withdrawn", "No card"), their picture when no
// video shows, a note when something happened to their card, the
// non-modal "share your card?" prompt, and a small panel with their card
// and our choices for them (share now, stop sharing, save as contact).
// Every peer string goes in as text, never as HTML.

import { Emitter } from '../util/emitter.js';
import { cardBody } from './card-body.js';
import { button, elementId as newId, h } from './dom.js';

/** @typedef {import('../features/cards/session.js').PeerCard} PeerCard */

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
