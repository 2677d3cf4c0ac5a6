// @ts-check
// prefs.js: what this browser remembers between visits, in localStorage and
// nowhere else: the display name (one key, `xroom.profile`, which holds the
// user card too: card.js), the chosen devices and switches (`xroom.devices`), and
// whether to hide our address behind the relay (`xroom.privacy`). Never the
// room secret, never a room id. No DOM.

export const PROFILE_KEY = 'xroom.profile';
export const DEVICES_KEY = 'xroom.devices';
export const PRIVACY_KEY = 'xroom.privacy';

/** @typedef {{name: string}} Profile */
/** @typedef {{micId: string, camId: string, micOn: boolean, camOn: boolean}} DevicePrefs */
/** @typedef {{hideAddress: boolean}} PrivacyPrefs */

/** @param {string} key @returns {Record<string, unknown>} */
function read(key) {
  try {
    const v = JSON.parse(globalThis.localStorage?.getItem(key) ?? 'null');
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {};
  } catch {
    return {}; // storage disabled or a value we did not write
  }
}

/** @param {string} key @param {object} value */
function write(key, value) {
  try {
    globalThis.localStorage?.setItem(key, JSON.stringify(value));
  } catch {
    // private mode, quota: remembering is a convenience
  }
}

/** @returns {Profile} */
export function loadProfile() {
  const v = read(PROFILE_KEY);
  return { name: typeof v.name === 'string' ? v.name : '' };
}

/** @param {Profile} p  merged into what is stored, so later members survive */
export function saveProfile(p) {
  write(PROFILE_KEY, { ...read(PROFILE_KEY), ...p });
}

/** @returns {DevicePrefs} */
export function loadDevices() {
  const v = read(DEVICES_KEY);
  return {
    micId: typeof v.micId === 'string' ? v.micId : '',
    camId: typeof v.camId === 'string' ? v.camId : '',
    micOn: typeof v.micOn === 'boolean' ? v.micOn : true,
    camOn: typeof v.camOn === 'boolean' ? v.camOn : true,
  };
}

/** @param {DevicePrefs} d */
export function saveDevices(d) {
  write(DEVICES_KEY, d);
}

/** @returns {PrivacyPrefs} */
export function loadPrivacy() {
  const v = read(PRIVACY_KEY);
  return { hideAddress: v.hideAddress === true };
}

/** @param {PrivacyPrefs} p */
export function savePrivacy(p) {
  write(PRIVACY_KEY, p);
}
