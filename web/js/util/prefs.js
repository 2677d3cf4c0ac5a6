// @ts-check
// prefs.js: what this browser remembers between visits, in localStorage and
// nowhere else: the display name (one key, `xroom.profile`, which holds the
// user card too: features/cards/), the chosen devices and switches (`xroom.devices`),
// whether to hide our address behind the relay (`xroom.privacy`), and
// whether single-key shortcuts are on (`xroom.shortcuts`). Never the room
// secret, never a room id. No DOM.

import { readObject, writeJSON } from './storage.js';

export const PROFILE_KEY = 'xroom.profile';
export const DEVICES_KEY = 'xroom.devices';
export const PRIVACY_KEY = 'xroom.privacy';
export const SHORTCUTS_KEY = 'xroom.shortcuts';

/** @typedef {{name: string}} Profile */
/** @typedef {{micId: string, camId: string, micOn: boolean, camOn: boolean, speakerId: string, noise: boolean}} DevicePrefs */
/** @typedef {{hideAddress: boolean}} PrivacyPrefs */

/** @returns {Profile} */
export function loadProfile() {
  const v = readObject(PROFILE_KEY);
  return { name: typeof v.name === 'string' ? v.name : '' };
}

/** @param {Profile} p  merged into what is stored, so later members survive */
export function saveProfile(p) {
  writeJSON(PROFILE_KEY, { ...readObject(PROFILE_KEY), ...p });
}

/** @returns {DevicePrefs} */
export function loadDevices() {
  const v = readObject(DEVICES_KEY);
  return {
    micId: typeof v.micId === 'string' ? v.micId : '',
    camId: typeof v.camId === 'string' ? v.camId : '',
    micOn: typeof v.micOn === 'boolean' ? v.micOn : true,
    camOn: typeof v.camOn === 'boolean' ? v.camOn : true,
    speakerId: typeof v.speakerId === 'string' ? v.speakerId : '',
    noise: typeof v.noise === 'boolean' ? v.noise : true,
  };
}

/** @param {DevicePrefs} d */
export function saveDevices(d) {
  writeJSON(DEVICES_KEY, d);
}

/** @returns {PrivacyPrefs} */
export function loadPrivacy() {
  const v = readObject(PRIVACY_KEY);
  return { hideAddress: v.hideAddress === true };
}

/** @param {PrivacyPrefs} p */
export function savePrivacy(p) {
  writeJSON(PRIVACY_KEY, p);
}

/** Whether single-key shortcuts are on (views/shortcuts.js): on unless switched off. */
export function loadShortcutsOn() {
  return readObject(SHORTCUTS_KEY).on !== false;
}

/** @param {boolean} on */
export function saveShortcutsOn(on) {
  writeJSON(SHORTCUTS_KEY, { on });
}
