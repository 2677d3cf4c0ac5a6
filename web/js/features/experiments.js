// @ts-check
// experiments.js: cookie-less A/B experiments, what the page asks and
// tells the server. This visit's variants and their params, asked once
// (/api/session; the server keys visitors by a salted hash that changes
// every UTC day, so nothing is stored here), and goals, reported with
// keepalive requests that carry no cookie and no identifier. No DOM:
// views/experiments-view.js applies the params to the page and reports
// clicks on marked elements.

/** @typedef {{variants: Record<string,string>, params: Record<string, unknown>}} Session */

/** @type {Promise<Session | null> | null} this visit's session, asked once */
let session = null;

/**
 * Reports a goal, when an experiment runs for this visit (none: nothing is
 * sent). Fire and forget: keepalive lets it finish while the page
 * navigates away; no cookie, no identifier is sent.
 * @param {string} name
 */
export function goal(name) {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) return;
  fetchSession().then((s) => {
    if (!s || Object.keys(s.variants ?? {}).length === 0) return;
    fetch('/api/events', {
      method: 'POST',
      keepalive: true,
      credentials: 'omit',
      cache: 'no-store',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: name }),
    }).catch(() => {});
  }).catch(() => { /* a goal is never worth an error */ });
}

/**
 * This visit's variants and params, or null when the server has none for
 * us or does not answer. Asked once per page.
 * @returns {Promise<Session | null>}
 */
export function fetchSession() {
  if (!session) session = load();
  return session;
}

/** @returns {Promise<Session | null>} */
async function load() {
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
