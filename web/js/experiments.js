// @ts-check
// experiments.js: cookie-less A/B experiments on the page. Asks the server
// for this visit's variants once (/api/session; the server keys visitors by
// a salted hash that changes every UTC day, so nothing is stored here),
// applies the variant's params to marked elements before they are shown,
// and reports goals with keepalive requests.
//
// Markup a designer uses, no code:
//   data-xp-text="cta"    the element's text becomes params.cta
//   data-xp-class="tone"  params.tone (a class name) is added to the element
//   data-xp-goal="name"   a click on it reports the goal "name"
// Marked elements stay hidden (css/xp.css) until params are applied or the
// server has not answered within REVEAL_MS, so nobody sees text change.

export const REVEAL_MS = 800;

/** @typedef {{variants: Record<string,string>, params: Record<string, unknown>}} Session */

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

/**
 * Reports a goal. Fire and forget: keepalive lets it finish while the page
 * navigates away; no cookie, no identifier is sent.
 * @param {string} name
 */
export function goal(name) {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) return;
  try {
    fetch('/api/events', {
      method: 'POST',
      keepalive: true,
      credentials: 'omit',
      cache: 'no-store',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: name }),
    }).catch(() => {});
  } catch {
    /* a goal is never worth an error */
  }
}

/** @returns {Promise<Session | null>} */
async function fetchSession() {
  try {
    const r = await fetch('/api/session', { credentials: 'omit', cache: 'no-store' });
    if (!r.ok) return null;
    const s = await r.json();
    if (!s || typeof s !== 'object' || typeof s.params !== 'object') return null;
    return s;
  } catch {
    return null;
  }
}

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
