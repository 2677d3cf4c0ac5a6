// @ts-check
// shortcuts.js: the call's single-key shortcuts, safely. M, V, S and C act
// at once; L asks first ("Leave the call?", Enter leaves, Esc stays);
// "?" opens the list of shortcuts, where they can be switched off (WCAG
// 2.1.4: single-character shortcuts can be turned off), remembered in
// this browser (util/prefs.js). Which key does what, as a pure function;
// room-view.js listens and shows the dialogs, main.js acts.

/** The shortcuts, in the order the help lists them. */
export const SHORTCUTS = Object.freeze([
  { key: 'm', action: 'toggle-mic', label: 'Mute or unmute the microphone' },
  { key: 'v', action: 'toggle-cam', label: 'Turn the camera on or off' },
  { key: 's', action: 'toggle-screen', label: 'Share your screen, or stop' },
  { key: 'c', action: 'toggle-chat', label: 'Open or close the chat' },
  { key: 'l', action: 'confirm-leave', label: 'Leave the call (asks first)' },
  { key: '?', action: 'shortcuts', label: 'This list' },
]);

/**
 * The action of a key press in the call, or '' (none, or not ours: a
 * modifier, a repeat, typing in a field). "?" works even with shortcuts off.
 * @param {{key: string, ctrlKey: boolean, metaKey: boolean, altKey: boolean, repeat: boolean}} ev
 * @param {boolean} typing  the focus is in a text field
 * @param {boolean} on  single-key shortcuts are on
 */
export function actionOf(ev, typing, on) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat || typing) return '';
  const k = ev.key.toLowerCase();
  const s = SHORTCUTS.find((x) => x.key === k);
  if (!s || (!on && s.key !== '?')) return '';
  return s.action;
}
