// @ts-check
// chat-view.js: the chat panel's DOM. Shows messages (sender, time, links
// as DOM nodes, never innerHTML), the delivery state of ours, the unread
// badge on the chat button; reports `send` and `toggle`. Decides nothing
// about the network.

import { Emitter } from '../util/emitter.js';
import { CHAT_MAX_BYTES, checkText, deliveryOf, splitLinks, tooLongText, utf8Bytes } from '../features/chat.js';
import { byId as $ } from './dom.js';

/** @typedef {import('../features/chat.js').ChatMessage} ChatMessage */

/** What each delivery state says. */
export const DELIVERY_TEXT = Object.freeze({
  sending: 'Sending…',
  all: 'Sent to all',
  some: 'Sent to some',
  none: 'Not delivered',
});

/** @extends {Emitter<{send: {text: string}, toggle: {}}>} */
export class ChatView extends Emitter {
  constructor() {
    super();
    this.el = {
      panel: $('chat'),
      log: $('chat-log'),
      form: /** @type {HTMLFormElement} */ ($('chat-form')),
      input: /** @type {HTMLTextAreaElement} */ ($('chat-input')),
      error: $('chat-error'),
      close: $('chat-close'),
      button: $('btn-chat'),
      badge: $('chat-badge'),
    };
    this.open = false;
    this.unread = 0;
    /** @type {Map<string, HTMLElement>} delivery line of our messages, by id */
    this.states = new Map();
    const e = this.el;
    e.button.addEventListener('click', () => this.emit('toggle', {}));
    e.close.addEventListener('click', () => this.setOpen(false));
    e.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    e.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.submit();
      } else if (ev.key === 'Escape') {
        ev.preventDefault();
        this.setOpen(false);
        e.button.focus();
      }
    });
    e.input.addEventListener('input', () => {
      if (!e.error.hidden && utf8Bytes(e.input.value) <= CHAT_MAX_BYTES) this.setError('');
    });
  }

  submit() {
    const text = this.el.input.value;
    const c = checkText(text);
    if (!c.ok) {
      if (c.reason === 'too-long') this.setError(tooLongText(c.bytes));
      return;
    }
    this.setError('');
    this.emit('send', { text });
  }

  /** Clears the box after a message went out. */
  sent() {
    this.el.input.value = '';
  }

  /** @param {string} text */
  setError(text) {
    this.el.error.textContent = text;
    this.el.error.hidden = !text;
    this.el.input.setAttribute('aria-invalid', text ? 'true' : 'false');
  }

  toggle() {
    this.setOpen(!this.open);
  }

  /** @param {boolean} open */
  setOpen(open) {
    this.open = open;
    this.el.panel.hidden = !open;
    document.body.classList.toggle('chat-open', open);
    this.el.button.setAttribute('aria-expanded', String(open));
    this.el.button.classList.toggle('is-active', open);
    if (open) {
      this.unread = 0;
      this.renderBadge();
      this.el.input.focus();
      this.el.log.scrollTop = this.el.log.scrollHeight;
    }
  }

  renderBadge() {
    const b = this.el.badge;
    b.textContent = this.unread > 99 ? '99+' : String(this.unread);
    b.hidden = this.unread === 0;
    this.el.button.setAttribute('aria-label', this.unread ? `Chat, ${this.unread} unread` : 'Chat');
  }

  /**
   * @param {ChatMessage} m
   * @param {string} name  who sent it, as shown
   */
  add(m, name) {
    const li = document.createElement('li');
    li.className = m.mine ? 'chat-msg mine' : 'chat-msg';
    const head = ChatView.meta(m.mine ? 'You' : name, m.at);
    const body = document.createElement('p');
    body.className = 'chat-text';
    for (const part of splitLinks(m.text)) {
      if (part.href) {
        const a = document.createElement('a');
        a.href = part.href;
        a.textContent = part.text;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        a.referrerPolicy = 'no-referrer';
        body.append(a);
      } else {
        body.append(part.text);
      }
    }
    li.append(head, body);
    if (m.mine) {
      const state = document.createElement('p');
      state.className = 'chat-state';
      li.append(state);
      this.states.set(m.id, state);
      this.delivery(m);
    }
    this.append(li, m.mine);
  }

  /**
   * Adds an item to the log (a message, a file transfer); one from someone
   * else counts as unread while the panel is closed.
   * @param {HTMLElement} li
   * @param {boolean} mine
   */
  append(li, mine) {
    const log = this.el.log;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.append(li);
    if (atBottom || mine) log.scrollTop = log.scrollHeight;
    if (!mine && !this.open) {
      this.unread += 1;
      this.renderBadge();
    }
  }

  /**
   * The meta line of an item: who, and when.
   * @param {string} who @param {number} at
   */
  static meta(who, at) {
    const head = document.createElement('p');
    head.className = 'chat-meta';
    const from = document.createElement('span');
    from.className = 'chat-from';
    from.textContent = who;
    const time = document.createElement('time');
    const d = new Date(at);
    time.dateTime = d.toISOString();
    time.textContent = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    head.append(from, ' ', time);
    return head;
  }

  /** @param {ChatMessage} m */
  delivery(m) {
    const el = this.states.get(m.id);
    if (!el) return;
    const d = deliveryOf(m);
    el.dataset.state = d;
    let text = DELIVERY_TEXT[d];
    if (d === 'some' || (d === 'sending' && m.to.size > 1)) text += ` (${m.acked.size} of ${m.to.size})`;
    if (d === 'none' && m.to.size === 0) text += ': nobody else is here';
    el.textContent = text;
  }
}
