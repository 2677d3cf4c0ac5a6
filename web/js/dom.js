// @ts-check
// dom.js: finding the page's elements by id. A missing one is a bug in the
// page, not a state to handle, so it throws.

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
