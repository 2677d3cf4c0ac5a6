// @ts-check
// session.js (cards/): cards in a call, on the sealed data link
// (`card` and `card-revoke` envelopes). Ours is sent to each peer as the
// owner's sharing mode and per-peer decisions say, signed for that peer;
// theirs is checked and kept in memory for the call, matched against saved
// contacts. No DOM (views/card-tiles.js shows it).

import { Chains } from '../../util/chains.js';
import { Emitter } from '../../util/emitter.js';
import { CardKey, idbKeyStore, verifyEnvelope } from './key.js';
import { contactStatus, shareAction, sharedFields } from './model.js';
import { localSaved } from './saved.js';

/** @typedef {import('../../transport/data-link.js').DataLink} DataLink */
/** @typedef {import('./model.js').Card} Card */
/** @typedef {import('./model.js').ShareMode} ShareMode */
/** @typedef {import('./model.js').Decision} Decision */
/** @typedef {import('./key.js').KeyStore} KeyStore */
/** @typedef {import('./saved.js').SavedState} SavedState */

/**
 * @typedef {{state: 'none'} | {state: 'revoked'} | {state: 'rejected', reason: 'malformed' | 'signature'}
 *   | {state: 'card', card: Card, fp: string, contact: 'known' | 'changed' | 'new', savedAs: string}} Received
 * @typedef {{tab: string, mode: ShareMode, mine: boolean, decision: Decision | undefined, received: Received}} PeerCard
 *   mine: whether we have a card at all
 */

/**
 * Cards in a call: ours sent to each peer as the owner decides, theirs
 * received, checked and kept in memory. Events: `peer` {tab} whenever what
 * a tile should show changes.
 * @extends {Emitter<{peer: {tab: string}}>}
 */
export class Cards extends Emitter {
  /**
   * @param {DataLink} link
   * @param {string} tab  ours
   * @param {{keys?: KeyStore, nameOf?: (tab: string) => string, saved?: SavedState}} [opts]
   *   saved: where our card, sharing choices and contacts are read and written (default: localStorage)
   */
  constructor(link, tab, opts = {}) {
    super();
    this.link = link;
    this.tab = tab;
    this.store = opts.keys ?? idbKeyStore();
    this.nameOf = opts.nameOf ?? (() => '');
    this.saved = opts.saved ?? localSaved;
    /** @type {Promise<CardKey | null> | null} */
    this.key = null;
    /** @type {Map<string, Decision>} */
    this.decisions = new Map();
    /** @type {Map<string, Received>} */
    this.received = new Map();
    /** per peer: our sends in order */
    this.sending = new Chains('card not sent');
    /** per peer: their cards checked in order */
    this.checking = new Chains('card dropped');
    this.counters = { sent: 0, revokesSent: 0, received: 0, rejected: 0, revoked: 0 };
    /** @type {{field: string, value: unknown} | null} test hook: alter the next card after signing */
    this.tamper = null;
    this.sharing = this.saved.sharing();
    link.handle('card', (from, m) => this.checking.run(from, () => this.onCard(from, m)));
    link.handle('card-revoke', (from) => this.checking.run(from, async () => this.onRevoke(from)));
  }

  /** Our key, made on first use. */
  keyNow() {
    this.key ??= CardKey.load(this.store, true).catch((e) => {
      console.warn('xroom: no card key', e);
      this.key = null;
      return null;
    });
    return this.key;
  }

  /** @param {string} tab @returns {PeerCard} */
  view(tab) {
    return {
      tab, mode: this.sharing.mode, mine: this.saved.has(), decision: this.decisions.get(tab), received: this.received.get(tab) ?? { state: 'none' },
    };
  }

  /** @param {string} tab */
  changed(tab) {
    this.emit('peer', { tab });
  }

  /** The channel to `tab` opened (first time, or after a rebuild). @param {string} tab */
  peerOpened(tab) {
    this.apply(tab);
  }

  /** Applies the sharing mode to one peer. @param {string} tab */
  apply(tab) {
    if (!this.saved.has()) return;
    const action = shareAction(this.sharing.mode, this.decisions.get(tab));
    if (action === 'send') {
      this.decisions.set(tab, 'shared');
      this.sendCard(tab);
    } else if (action === 'ask' && this.decisions.get(tab) !== 'pending') {
      this.decisions.set(tab, 'pending');
      this.changed(tab);
    }
  }

  /** @param {string} tab */
  sendCard(tab) {
    return this.sending.run(tab, async () => {
      if (this.decisions.get(tab) !== 'shared' || this.sharing.mode === 'never' || !this.saved.has()) return;
      const key = await this.keyNow();
      if (!key) return;
      const env = await key.sign(sharedFields(this.saved.card(), this.sharing), this.tab, tab);
      if (this.decisions.get(tab) !== 'shared') return;
      if (this.tamper) {
        /** @type {Record<string, unknown>} */ (env.card)[this.tamper.field] = this.tamper.value;
        this.tamper = null;
      }
      if (this.link.send(tab, env)) this.counters.sent += 1;
      this.changed(tab);
    });
  }

  /** "Share my card" with this peer, now. @param {string} tab */
  shareWith(tab) {
    if (this.sharing.mode === 'never' || !this.saved.has()) return;
    this.decisions.set(tab, 'shared');
    this.changed(tab);
    this.sendCard(tab);
  }

  /** "Not now": no card, no more asking in this call. @param {string} tab */
  notNow(tab) {
    this.decisions.set(tab, 'declined');
    this.changed(tab);
  }

  /**
   * "Stop sharing": tells the peer to drop our card. An honest client does;
   * nothing can make a modified one forget.
   * @param {string} tab
   */
  revoke(tab) {
    const was = this.decisions.get(tab);
    this.decisions.set(tab, 'revoked');
    this.changed(tab);
    if (was !== 'shared') return Promise.resolve();
    return this.sending.run(tab, async () => {
      if (this.link.send(tab, { t: 'card-revoke' })) this.counters.revokesSent += 1;
    });
  }

  /** Our card or sharing choices changed (the editor): sends the new card, applies the new mode. */
  reload() {
    this.sharing = this.saved.sharing();
    for (const tab of this.link.openTabs()) {
      const d = this.decisions.get(tab);
      if (this.sharing.mode === 'never' && d === 'shared') this.revoke(tab);
      else if (d === 'shared') this.sendCard(tab);
      else if (d === 'pending' && this.sharing.mode !== 'ask') {
        this.decisions.delete(tab);
        this.apply(tab);
        this.changed(tab);
      } else this.apply(tab);
      this.changed(tab);
    }
  }

  /** Our card was deleted: every peer that had it is told to drop it; the key is gone. */
  deleted() {
    this.key = null;
    for (const [tab, d] of this.decisions) if (d === 'shared') this.revoke(tab);
    this.sharing = this.saved.sharing();
    for (const tab of this.link.openTabs()) this.changed(tab);
  }

  /** @param {string} from @param {unknown} raw */
  async onCard(from, raw) {
    const r = await verifyEnvelope(raw, from, this.tab);
    if (!this.link.channels.has(from)) return; // gone meanwhile
    if (!r.ok) {
      this.counters.rejected += 1;
      this.received.set(from, { state: 'rejected', reason: r.reason });
    } else {
      this.counters.received += 1;
      this.received.set(from, this.withContact(r.card, r.fp, from));
    }
    this.changed(from);
  }

  /** @param {Card} card @param {string} fp @param {string} tab @returns {Received} */
  withContact(card, fp, tab) {
    const c = contactStatus(this.saved.contacts(), card.pub, card.name || this.nameOf(tab));
    return { state: 'card', card, fp, contact: c.status, savedAs: c.contact?.name ?? '' };
  }

  /** @param {string} from */
  onRevoke(from) {
    const had = this.received.get(from)?.state === 'card';
    this.counters.revoked += 1;
    this.received.set(from, had ? { state: 'revoked' } : { state: 'none' });
    this.changed(from);
  }

  /** Saves the card this peer shared as a contact. @param {string} tab */
  saveContact(tab) {
    const r = this.received.get(tab);
    if (r?.state !== 'card') return false;
    const { card, fp } = r;
    const ok = this.saved.addContact({
      pub: card.pub, fp, name: card.name || this.nameOf(tab), saved: Date.now(),
      card: { name: card.name, avatar: card.avatar, pronouns: card.pronouns, status: card.status, links: card.links },
    });
    this.recheck();
    return ok;
  }

  /** @param {string} tab */
  forgetContact(tab) {
    const r = this.received.get(tab);
    if (r?.state !== 'card') return;
    this.saved.deleteContact(r.card.pub);
    this.recheck();
  }

  /** Contacts changed: every received card is matched again. */
  recheck() {
    for (const [tab, r] of this.received) {
      if (r.state !== 'card') continue;
      this.received.set(tab, this.withContact(r.card, r.fp, tab));
      this.changed(tab);
    }
  }

  /** The peer left: its card goes with it. @param {string} tab */
  peerGone(tab) {
    this.decisions.delete(tab);
    this.received.delete(tab);
    this.sending.delete(tab);
    this.checking.delete(tab);
  }

  /** For tests: states and counters, never a field. */
  snapshot() {
    /** @type {Record<string, {decision: string, received: string, contact: string, fp: string, reason: string}>} */
    const peers = {};
    const tabs = new Set([...this.decisions.keys(), ...this.received.keys()]);
    for (const t of tabs) {
      const r = this.received.get(t) ?? { state: 'none' };
      peers[t] = {
        decision: this.decisions.get(t) ?? '',
        received: r.state,
        contact: r.state === 'card' ? r.contact : '',
        fp: r.state === 'card' ? r.fp : '',
        reason: r.state === 'rejected' ? r.reason : '',
      };
    }
    return { mode: this.sharing.mode, counters: { ...this.counters }, peers };
  }

  close() {
    this.received.clear();
    this.decisions.clear();
  }
}
