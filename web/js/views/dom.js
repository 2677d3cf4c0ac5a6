// @ts-check
// dom.js: the views' helpers for the page's elements. `byId` finds one (a
// missing one is a bug in the page, not a state to handle, so it throws);
// `h` and `button` make new ones, text always as text nodes, never as
// HTML; `elementId` names one uniquely, for labels that point at it.

import { randomId } from '../util/ids.js';

/**
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @returns {T}
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page lacks #${id}`);
  return /** @type {T} */ (el);
}

/**
 * A new element with a class, text, attributes and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {{class?: string, text?: string, attrs?: Record<string, string>}} [o]
 * @param {Array<Node | string>} [kids]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, o = {}, kids = []) {
  const el = document.createElement(tag);
  if (o.class) el.className = o.class;
  if (o.text !== undefined) el.textContent = o.text;
  for (const [k, v] of Object.entries(o.attrs ?? {})) el.setAttribute(k, v);
  el.append(...kids);
  return el;
}

/**
 * A button that submits nothing.
 * @param {string} text
 * @param {string} [cls]
 * @param {() => void} [onClick]
 */
export function button(text, cls = '', onClick) {
  const b = h('button', { class: cls, text, attrs: { type: 'button' } });
  if (onClick) b.addEventListener('click', onClick);
  return b;
}

/** An id unique in the page, for a label's `for` and the like. @param {string} prefix */
export function elementId(prefix) {
  return `${prefix}-${randomId(6)}`;
}
