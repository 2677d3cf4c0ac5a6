// @ts-check
// start.js: the start page. Creates a room (128-bit id, 256-bit secret, both
// base64url) and opens /r/<id>#<secret>; or opens a pasted room link.

/** @param {Uint8Array} bytes */
export function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** @param {number} n */
function randomB64(n) {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

function init() {
  const create = document.getElementById('create');
  const form = /** @type {HTMLFormElement} */ (document.getElementById('open-link'));
  const input = /** @type {HTMLInputElement} */ (document.getElementById('link'));
  const err = /** @type {HTMLElement} */ (document.getElementById('link-error'));
  create?.addEventListener('click', () => {
    location.assign(`/r/${randomB64(16)}#${randomB64(32)}`);
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    try {
      const u = new URL(input.value.trim(), location.href);
      if (u.origin !== location.origin || !/^\/r\/[A-Za-z0-9_-]{1,64}$/.test(u.pathname)) {
        throw new Error('not a room link of this server');
      }
      location.assign(u.pathname + u.hash);
    } catch {
      err.textContent = 'That is not a room link of this server.';
      err.hidden = false;
    }
  });
}

init();
