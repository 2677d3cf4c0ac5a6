// @ts-check
// start.js: the start page. One button makes a room (a 128-bit id and a
// 256-bit secret from the browser's CSPRNG) and opens /r/<id>#<secret>; a
// field opens a pasted room link of this server. The secret is made here
// and travels only in the fragment, which browsers never send.

import { CardEditor } from './card-editor.js';
import { newRoom, parseRoomLink, roomHref } from '../util/ids.js';

const REASONS = {
  'not-a-link': 'That does not look like a link.',
  'other-server': 'That link is for another server. Open it in the address bar instead.',
  'no-room': 'That is not a room link: room links look like …/r/<room>#<key>.',
  'no-secret': 'That link lacks its key, the part after #. Copy the whole link.',
  'bad-secret': 'The key after # in that link is damaged. Copy the whole link again.',
};

function init() {
  new CardEditor().bindOpeners(['start-card']);
  const create = /** @type {HTMLButtonElement} */ (document.getElementById('create'));
  const form = /** @type {HTMLFormElement} */ (document.getElementById('open-link'));
  const input = /** @type {HTMLInputElement} */ (document.getElementById('link'));
  const err = /** @type {HTMLElement} */ (document.getElementById('link-error'));
  create.addEventListener('click', () => {
    const { id, secret } = newRoom();
    location.assign(roomHref(id, secret));
  });
  input.addEventListener('input', () => {
    err.hidden = true;
    input.removeAttribute('aria-invalid');
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const r = parseRoomLink(input.value, location.href);
    if (r.ok) {
      location.assign(r.href);
      return;
    }
    err.textContent = REASONS[r.reason];
    err.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  });
}

init();
