// @ts-check
// admin.js: the operator's dashboard (/admin). The operator types the
// admin token; it is kept in sessionStorage (this tab only) and sent only
// to this server, as a bearer token. Then the rooms (views/admin-rooms.js)
// and the experiments report (views/admin-experiments.js) are shown.
// A refused token is forgotten at once.

import { AdminApi } from '../features/admin-api.js';
import { renderReport } from './admin-experiments.js';
import { RoomsView } from './admin-rooms.js';
import { byId } from './dom.js';

const KEY = 'xroom-admin-token';

/** @type {AdminApi | null} */
let api = null;
const status = byId('status');
const forget = /** @type {HTMLButtonElement} */ (byId('forget'));
const sections = [byId('rooms-section'), byId('experiments-section')];

/** @param {string} text */
function say(text) {
  status.textContent = text;
}

/** @param {{message: string} | null} [why] */
function signOut(why) {
  api = null;
  sessionStorage.removeItem(KEY);
  forget.hidden = true;
  for (const s of sections) s.hidden = true;
  byId('rooms').replaceChildren();
  byId('report').replaceChildren();
  say(why?.message ?? '');
}

const rooms = new RoomsView(() => api, { say, signedOut: signOut });

/** @param {string} token */
async function signIn(token) {
  const a = new AdminApi(token);
  say('Loading…');
  let report;
  try {
    report = await a.experiments();
  } catch (e) {
    if (/** @type {{status?: number}} */ (e).status === 401) signOut(/** @type {Error} */ (e));
    else say(/** @type {Error} */ (e).message);
    return;
  }
  api = a;
  sessionStorage.setItem(KEY, token);
  forget.hidden = false;
  for (const s of sections) s.hidden = false;
  say('');
  renderReport(byId('report'), report);
  await rooms.load();
}

const form = /** @type {HTMLFormElement} */ (byId('login'));
const input = /** @type {HTMLInputElement} */ (byId('token'));
form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  signIn(input.value.trim());
  input.value = '';
});
forget.addEventListener('click', () => signOut());
const saved = sessionStorage.getItem(KEY);
if (saved) signIn(saved);
