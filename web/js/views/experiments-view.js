// @ts-check
// experiments-view.js: A/B experiments on the page (features/
// experiments.js asks the server and reports goals). Applies the visit's
// params to marked elements before they are shown, and reports a goal
// when a marked element is clicked. Loaded by the start and room pages as
// a script of its own; it starts when loaded.
//
// Markup a designer uses, no code:
//   data-xp-text="cta"    the element's text becomes params.cta
//   data-xp-class="tone"  params.tone (a class name) is added to the element
//   data-xp-goal="name"   a click on it reports the goal "name"
// Marked elements stay hidden (css/xp.css) until params are applied or the
// server has not answered within REVEAL_MS, so nobody sees text change.

import { fetchSession, goal } from '../features/experiments.js';

/** @typedef {import('../features/experiments.js').Session} Session */

export const REVEAL_MS = 800;

/**
 * Applies params to the marked elements under root. Unknown params and
 * non-string values are ignored; class names must be plain tokens.
 * @param {ParentNode} root
 * @param {Record<string, unknown>} params
 * @returns {number} how many elements changed
 */
export function applyParams(root, params) {
  let n = 0;
  for (const el of root.querySelectorAll('[data-xp-text]')) {
    const v = params[/** @type {HTMLElement} */ (el).dataset.xpText ?? ''];
    if (typeof v === 'string') {
      el.textContent = v;
      n += 1;
    }
  }
  for (const el of root.querySelectorAll('[data-xp-class]')) {
    const v = params[/** @type {HTMLElement} */ (el).dataset.xpClass ?? ''];
    if (typeof v === 'string' && /^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(v)) {
      el.classList.add(v);
      n += 1;
    }
  }
  return n;
}

/** Shows the marked elements (css/xp.css). */
function reveal() {
  document.documentElement.classList.add('xp-ready');
}

/** @type {Promise<Session | null> | null} */
let started = null;

/**
 * Starts once per page: fetch, apply, reveal; wires data-xp-goal clicks.
 * @returns {Promise<Session | null>}
 */
export function start() {
  if (started) return started;
  const timer = setTimeout(reveal, REVEAL_MS);
  document.addEventListener('click', (ev) => {
    const el = ev.target instanceof Element ? ev.target.closest('[data-xp-goal]') : null;
    if (el instanceof HTMLElement && el.dataset.xpGoal) goal(el.dataset.xpGoal);
  }, { capture: true });
  started = fetchSession().then((s) => {
    const apply = () => {
      if (s) applyParams(document, s.params);
      clearTimeout(timer);
      reveal();
    };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', apply, { once: true });
    else apply();
    return s;
  });
  return started;
}

if (typeof document !== 'undefined' && typeof fetch === 'function') start();
