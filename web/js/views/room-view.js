// @ts-check
// room-view.js: the room page's screens (loading, pre-join, call,
// messages), the call's controls and their keyboard shortcuts, banner,
// toasts and the live region; the tiles are tiles.js (`tiles`), the
// message texts messages.js. It shows what it is told and reports what the
// user does as typed actions; it decides nothing about media or network.

import { Emitter } from '../util/emitter.js';
import { byId as $ } from './dom.js';
import { MESSAGES } from './messages.js';
import { TileGrid, initials } from './tiles.js';
import { InviteView } from './invite.js';
import { MoreMenu } from './more-menu.js';
import { REACTIONS } from '../features/reactions.js';
import { SHORTCUTS, actionOf } from './shortcuts.js';
import { loadShortcutsOn, saveShortcutsOn } from '../util/prefs.js';

/** @typedef {'loading' | 'prejoin' | 'call' | 'message'} ScreenName */
/**
 * @typedef {{
 *   join: {}, 'toggle-mic': {}, 'toggle-cam': {}, 'toggle-screen': {}, copy: {}, leave: {},
 *   retry: {}, alt: {}, 'select-camera': {id: string}, 'select-mic': {id: string}, name: {name: string},
 *   gesture: {}, 'toggle-hide': {}, 'toggle-chat': {}, 'confirm-leave': {}, shortcuts: {},
 *   'select-speaker': {id: string}, noise: {on: boolean}, hand: {up: boolean}, react: {emoji: string},
 * }} Actions
 */

/** Why "hide my address" cannot be switched on. */
export const HIDE_UNAVAILABLE = 'Hiding your address needs a relay (TURN) server, and this server has none configured: ' +
  'the others connect to your network address directly.';

/** @extends {Emitter<Actions>} */
export class RoomView extends Emitter {
  constructor() {
    super();
    /** @type {ScreenName} */
    this.screen = 'loading';
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.toastTimer = undefined;
    this.el = {
      preview: /** @type {HTMLVideoElement} */ ($('preview')),
      previewOff: $('preview-off'),
      previewOffText: $('preview-off-text'),
      previewAvatar: $('preview-avatar'),
      preMic: $('pre-mic'),
      preCam: $('pre-cam'),
      preLevel: /** @type {HTMLMeterElement} */ ($('pre-level')),
      form: /** @type {HTMLFormElement} */ ($('prejoin-form')),
      name: /** @type {HTMLInputElement} */ ($('name')),
      cameraSelect: /** @type {HTMLSelectElement} */ ($('camera-select')),
      micSelect: /** @type {HTMLSelectElement} */ ($('mic-select')),
      deviceNote: $('device-note'),
      join: /** @type {HTMLButtonElement} */ ($('join')),
      joinStatus: $('join-status'),
      roomTitle: $('room-title'),
      grid: $('grid'),
      callTitle: $('call-title'),
      callCount: $('call-count'),
      callRoster: $('call-roster'),
      aloneInvite: $('alone-invite'),
      btnHelp: $('btn-help'),
      btnPeople: $('btn-people'),
      btnSettings: $('btn-settings'),
      btnReact: $('btn-react'),
      btnHand: $('btn-hand'),
      reactMenu: $('react-menu'),
      settingsDialog: /** @type {HTMLDialogElement} */ ($('settings-dialog')),
      setCamera: /** @type {HTMLSelectElement} */ ($('set-camera')),
      setMic: /** @type {HTMLSelectElement} */ ($('set-mic')),
      setSpeaker: /** @type {HTMLSelectElement} */ ($('set-speaker')),
      setNoise: /** @type {HTMLInputElement} */ ($('set-noise')),
      peopleDialog: /** @type {HTMLDialogElement} */ ($('people-dialog')),
      leaveDialog: /** @type {HTMLDialogElement} */ ($('leave-dialog')),
      shortcutsDialog: /** @type {HTMLDialogElement} */ ($('shortcuts-dialog')),
      shortcutsOn: /** @type {HTMLInputElement} */ ($('shortcuts-on')),
      banner: $('banner'),
      btnMic: $('btn-mic'),
      btnCam: $('btn-cam'),
      btnScreen: /** @type {HTMLButtonElement} */ ($('btn-screen')),
      btnCopy: $('btn-copy'),
      btnHide: $('btn-hide'),
      btnLeave: $('btn-leave'),
      messageH: $('message-h'),
      messageText: $('message-text'),
      messageHelp: $('message-help'),
      messageRetry: $('message-retry'),
      messageAlt: $('message-alt'),
      toast: $('toast'),
      announcer: $('announcer'),
    };
    /** The call grid: a tile per person. */
    this.tiles = new TileGrid(this.el.grid, this.el.callCount, (text) => this.announce(text));
    /** The room's link, on the pre-join screen and over the call while alone. */
    this.invite = new InviteView([$('prejoin-invite'), this.el.aloneInvite], /** @type {HTMLTemplateElement} */ ($('invite-row')), this);
    /** the bar's secondary controls in a panel when the bar is narrow */
    this.more = new MoreMenu($('call-controls'), $('more-panel'), /** @type {HTMLButtonElement} */ ($('btn-more')));
    /** what the People list says now (it is redrawn only when that changes) */
    this.peopleSaid = '';
    /** Single-key shortcuts (shortcuts.js), on unless switched off in this browser. */
    this.keysOn = loadShortcutsOn();
    this.bind();
  }

  bind() {
    const e = this.el;
    e.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.emit('join', {});
    });
    e.name.addEventListener('input', () => {
      this.emit('name', { name: e.name.value });
      this.setPreviewAvatar(e.name.value);
    });
    e.cameraSelect.addEventListener('change', () => this.emit('select-camera', { id: e.cameraSelect.value }));
    e.micSelect.addEventListener('change', () => this.emit('select-mic', { id: e.micSelect.value }));
    e.preMic.addEventListener('click', () => this.emit('toggle-mic', {}));
    e.preCam.addEventListener('click', () => this.emit('toggle-cam', {}));
    e.btnMic.addEventListener('click', () => this.emit('toggle-mic', {}));
    e.btnCam.addEventListener('click', () => this.emit('toggle-cam', {}));
    e.btnScreen.addEventListener('click', () => this.emit('toggle-screen', {}));
    e.btnCopy.addEventListener('click', () => this.emit('copy', {}));
    e.btnHide.addEventListener('click', () => this.emit('toggle-hide', {}));
    e.btnLeave.addEventListener('click', () => this.emit('leave', {}));
    e.btnHelp.addEventListener('click', () => this.emit('shortcuts', {}));
    e.btnPeople.addEventListener('click', () => this.showPeople());
    e.btnReact.addEventListener('click', () => this.setReactMenu(e.btnReact.getAttribute('aria-expanded') !== 'true'));
    e.btnHand.addEventListener('click', () => {
      this.emit('hand', { up: e.btnHand.getAttribute('aria-pressed') !== 'true' });
      this.setReactMenu(false);
    });
    const names = ['thumbs up', 'applause', 'laughing', 'celebration', 'heart', 'surprised'];
    const emoji = /** @type {HTMLElement} */ (e.reactMenu.querySelector('.react-emoji'));
    REACTIONS.forEach((r, i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = r;
      b.setAttribute('aria-label', `React: ${names[i] ?? r}`);
      b.addEventListener('click', () => {
        this.emit('react', { emoji: r });
        this.setReactMenu(false);
      });
      emoji.append(b);
    });
    e.reactMenu.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        this.setReactMenu(false);
        e.btnReact.focus();
      }
    });
    e.btnSettings.addEventListener('click', () => { if (!e.settingsDialog.open) e.settingsDialog.showModal(); });
    e.setCamera.addEventListener('change', () => this.emit('select-camera', { id: e.setCamera.value }));
    e.setMic.addEventListener('change', () => this.emit('select-mic', { id: e.setMic.value }));
    e.setSpeaker.addEventListener('change', () => this.emit('select-speaker', { id: e.setSpeaker.value }));
    e.setNoise.addEventListener('change', () => this.emit('noise', { on: e.setNoise.checked }));
    this.on('confirm-leave', () => this.confirmLeave());
    this.on('shortcuts', () => this.showShortcuts());
    e.leaveDialog.addEventListener('close', () => {
      if (e.leaveDialog.returnValue === 'leave') this.emit('leave', {});
    });
    e.shortcutsOn.addEventListener('change', () => {
      this.keysOn = e.shortcutsOn.checked;
      saveShortcutsOn(this.keysOn);
      this.announce(this.keysOn ? 'Single-key shortcuts on' : 'Single-key shortcuts off');
    });
    e.messageRetry.addEventListener('click', () => this.emit('retry', {}));
    e.messageAlt.addEventListener('click', () => this.emit('alt', {}));
    document.addEventListener('keydown', (ev) => this.onKey(ev));
    // Audio may start only after a user gesture (autoplay policies).
    const gesture = () => this.emit('gesture', {});
    document.addEventListener('pointerdown', gesture, { once: true, capture: true });
    document.addEventListener('keydown', gesture, { once: true, capture: true });
  }

  /** Keyboard shortcuts of the call (shortcuts.js). @param {KeyboardEvent} ev */
  onKey(ev) {
    if (this.screen !== 'call' || document.querySelector('dialog[open]')) return;
    const t = /** @type {HTMLElement | null} */ (ev.target);
    const typing = !!t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    const action = /** @type {keyof Actions | ''} */ (actionOf(ev, typing, this.keysOn));
    if (!action) return;
    ev.preventDefault();
    this.emit(action, {});
  }

  /** Opens or closes the reactions menu. @param {boolean} open */
  setReactMenu(open) {
    this.el.reactMenu.hidden = !open;
    this.el.btnReact.setAttribute('aria-expanded', String(open));
    if (open) /** @type {HTMLElement} */ (this.el.btnHand).focus();
  }

  /** Our hand, as the menu shows it. @param {boolean} up */
  setHandUp(up) {
    this.el.btnHand.setAttribute('aria-pressed', String(up));
    this.el.btnHand.textContent = up ? 'Lower hand' : 'Raise hand';
    this.el.btnReact.classList.toggle('is-active', up);
  }

  /** "Leave the call?" (the L shortcut; the Leave button leaves at once). */
  confirmLeave() {
    const d = this.el.leaveDialog;
    if (d.open) return;
    d.returnValue = '';
    d.showModal();
  }

  /** The list of shortcuts, and the switch that turns them off. */
  showShortcuts() {
    const d = this.el.shortcutsDialog;
    if (d.open) return;
    const list = $('shortcuts-list');
    list.replaceChildren();
    for (const s of SHORTCUTS) {
      const dt = document.createElement('dt');
      const kbd = document.createElement('kbd');
      kbd.textContent = s.key.toUpperCase();
      dt.append(kbd);
      const dd = document.createElement('dd');
      dd.textContent = s.label;
      list.append(dt, dd);
    }
    this.el.shortcutsOn.checked = this.keysOn;
    d.showModal();
  }

  /**
   * Who is in the call: everyone with a tile, and who was let in but has
   * not connected. Kept up to date while open (a connection that comes up,
   * a lock that turns green).
   */
  showPeople() {
    const d = this.el.peopleDialog;
    this.renderPeople();
    if (d.open) return;
    d.showModal();
    const timer = setInterval(() => { if (d.open) this.renderPeople(); }, 1000);
    d.addEventListener('close', () => clearInterval(timer), { once: true });
  }

  /** The People dialog's list, redrawn only when what it says changed. */
  renderPeople() {
    const list = $('people-list');
    const people = this.tiles.people();
    const said = JSON.stringify([people, this.el.callRoster.hidden ? '' : this.el.callRoster.textContent]);
    if (this.peopleSaid === said) return;
    this.peopleSaid = said;
    list.replaceChildren();
    for (const p of people) {
      const li = document.createElement('li');
      const name = document.createElement('strong');
      name.textContent = p.name;
      li.append(name);
      const facts = [p.connection, p.lock, p.safety ? `safety code ${p.safety}` : ''].filter(Boolean).join(' · ');
      if (facts) {
        const small = document.createElement('span');
        small.className = 'muted';
        small.textContent = ` — ${facts}`;
        li.append(small);
      }
      list.append(li);
    }
    const roster = $('people-roster');
    roster.textContent = this.el.callRoster.hidden ? '' : this.el.callRoster.textContent.replace(/^· /, '') +
      '. They were let in with the link but have no connection with you: if you did not expect that, share a new link.';
    roster.hidden = !roster.textContent;
  }

  /** Whether we are alone in the call: then the invite shows over it. @param {boolean} alone */
  setAlone(alone) {
    this.el.aloneInvite.hidden = !alone || this.screen !== 'call';
  }

  /** @param {ScreenName} name */
  show(name) {
    this.screen = name;
    for (const s of /** @type {ScreenName[]} */ (['loading', 'prejoin', 'call', 'message'])) {
      $(`screen-${s}`).hidden = s !== name;
    }
    document.body.dataset.screen = name;
  }

  // --- pre-join ---------------------------------------------------------

  /** @param {string} name */
  setName(name) {
    this.el.name.value = name;
    this.setPreviewAvatar(name);
  }

  /** @param {string} name */
  setPreviewAvatar(name) {
    this.el.previewAvatar.textContent = initials(name || 'You');
  }

  /**
   * @param {MediaStreamTrack | null} video
   * @param {string} offText  why there is no picture
   */
  setPreview(video, offText) {
    const v = this.el.preview;
    if (video) {
      if (!(v.srcObject instanceof MediaStream) || v.srcObject.getVideoTracks()[0] !== video) {
        v.srcObject = new MediaStream([video]);
        v.play().catch(() => {});
      }
    } else {
      v.srcObject = null;
    }
    v.hidden = !video;
    this.el.previewOff.hidden = !!video;
    this.el.previewOffText.textContent = offText;
  }

  /** @param {number} level 0..1 */
  setPreLevel(level) {
    this.el.preLevel.value = level;
  }

  /**
   * The device lists, on the pre-join screen and in the call's settings.
   * @param {{cameras: MediaDeviceInfo[], mics: MediaDeviceInfo[], speakers?: MediaDeviceInfo[]}} devices
   * @param {{camId: string, micId: string, speakerId?: string, noise?: boolean}} chosen
   */
  setDevices(devices, chosen) {
    /**
     * @param {HTMLSelectElement} sel
     * @param {MediaDeviceInfo[]} list
     * @param {string} current
     * @param {string} noun
     */
    const fill = (sel, list, current, noun) => {
      sel.replaceChildren(...list.map((d, i) => {
        const o = document.createElement('option');
        o.value = d.deviceId;
        o.textContent = d.label || `${noun} ${i + 1}`;
        return o;
      }));
      if (list.length === 0) {
        const o = document.createElement('option');
        o.value = '';
        o.textContent = `No ${noun.toLowerCase()} found`;
        sel.append(o);
      }
      sel.disabled = list.length === 0;
      if (list.some((d) => d.deviceId === current)) sel.value = current;
    };
    fill(this.el.cameraSelect, devices.cameras, chosen.camId, 'Camera');
    fill(this.el.micSelect, devices.mics, chosen.micId, 'Microphone');
    fill(this.el.setCamera, devices.cameras, chosen.camId, 'Camera');
    fill(this.el.setMic, devices.mics, chosen.micId, 'Microphone');
    // A speaker choice only where the browser can route audio (setSinkId).
    const speakers = devices.speakers ?? [];
    const canRoute = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
    $('set-speaker-row').hidden = !canRoute || speakers.length === 0;
    if (canRoute) fill(this.el.setSpeaker, speakers, chosen.speakerId ?? '', 'Speaker');
    this.el.setNoise.checked = chosen.noise ?? true;
  }

  /** @param {string} text  '' hides it */
  setDeviceNote(text) {
    this.el.deviceNote.textContent = text;
    this.el.deviceNote.hidden = !text;
  }

  /** @param {boolean} busy @param {string} [status] */
  setJoining(busy, status = '') {
    this.el.join.disabled = busy;
    this.el.join.textContent = 'Join';
    this.el.joinStatus.textContent = status;
  }

  /** @param {string} title */
  setRoomTitle(title) {
    this.el.roomTitle.textContent = title;
    this.el.roomTitle.hidden = !title;
    if (title) this.el.callTitle.textContent = title;
    document.title = title ? `${title} · xroom` : 'xroom';
  }

  /**
   * The state of the microphone, camera and screen buttons, both screens.
   * @param {{micOn: boolean, camOn: boolean, screen: boolean, canShare: boolean}} s
   */
  setControls(s) {
    /** @param {HTMLElement} b @param {boolean} on @param {string} offTitle @param {string} onTitle */
    const set = (b, on, offTitle, onTitle) => {
      b.setAttribute('aria-pressed', String(on));
      b.title = on ? offTitle : onTitle;
      b.classList.toggle('is-off', !on);
    };
    set(this.el.preMic, s.micOn, 'Turn the microphone off', 'Turn the microphone on');
    set(this.el.preCam, s.camOn, 'Turn the camera off', 'Turn the camera on');
    set(this.el.btnMic, s.micOn, 'Mute (M)', 'Unmute (M)');
    set(this.el.btnCam, s.camOn, 'Turn the camera off (V)', 'Turn the camera on (V)');
    this.el.btnScreen.setAttribute('aria-pressed', String(s.screen));
    this.el.btnScreen.title = s.screen ? 'Stop sharing (S)' : 'Share your screen (S)';
    this.el.btnScreen.classList.toggle('is-active', s.screen);
    this.el.btnScreen.hidden = !s.canShare;
  }

  /**
   * The "hide my address" switch: usable only when the server offers a
   * relay (TURN); otherwise shown disabled, saying why.
   * @param {{available: boolean, on: boolean}} s
   */
  setHideAddress(s) {
    const b = this.el.btnHide;
    b.setAttribute('aria-pressed', String(s.available && s.on));
    b.setAttribute('aria-disabled', String(!s.available));
    b.classList.toggle('is-active', s.available && s.on);
    b.title = !s.available ? HIDE_UNAVAILABLE
      : s.on ? 'Your address is hidden: the others see only the relay\'s. Click to connect directly again.'
        : 'Hide my address: connect through the server\'s relay, so the others never see your network address';
  }

  /** @param {string} text  '' hides it */
  setBanner(text) {
    this.el.banner.textContent = text;
    this.el.banner.hidden = !text;
  }

  /** Who the server admitted but has not connected (call/roster.js); '' hides it. @param {string} text */
  setRoster(text) {
    const el = this.el.callRoster;
    if (el.textContent === text) return;
    el.textContent = text;
    el.hidden = !text;
    if (text) this.announce(text.replace(/^· /, ''));
  }

  /** A short notice that fades. @param {string} text */
  toast(text) {
    const t = this.el.toast;
    t.textContent = text;
    t.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => { t.hidden = true; }, 2500);
  }

  /** For screen readers only. @param {string} text */
  announce(text) {
    this.el.announcer.textContent = text;
  }

  /**
   * Copies text to the clipboard; falls back to a selected text field.
   * @param {string} text
   * @returns {Promise<boolean>}
   */
  async copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      const ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.className = 'offscreen';
      document.body.append(ta);
      ta.select();
      let ok = false;
      try { ok = document.execCommand('copy'); } catch { ok = false; }
      ta.remove();
      return ok;
    }
  }

  // --- messages ---------------------------------------------------------

  /**
   * Shows the message screen for `code` (see MESSAGES).
   * @param {string} code
   * @param {{text?: string, retryLabel?: string}} [extra]
   */
  showMessage(code, extra = {}) {
    const m = MESSAGES[code] ?? { title: 'Something went wrong', text: extra.text ?? code, retry: true };
    this.el.messageH.textContent = m.title;
    this.el.messageText.textContent = extra.text ?? m.text;
    this.el.messageHelp.textContent = m.help ?? '';
    this.el.messageHelp.hidden = !m.help;
    this.el.messageRetry.hidden = !m.retry;
    this.el.messageRetry.textContent = extra.retryLabel ?? (code === 'left' ? 'Rejoin' : 'Try again');
    this.el.messageAlt.hidden = !m.alt;
    this.el.messageAlt.textContent = m.alt ?? '';
    $('message-card').dataset.code = code;
    this.tiles.clear();
    this.el.preview.srcObject = null;
    this.show('message');
    (m.retry ? this.el.messageRetry : this.el.messageH).focus?.();
  }

  /** For the test hook. */
  tileCount() {
    return this.tiles.size;
  }
}
