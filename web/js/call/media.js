// @ts-check
// media.js: the local media. Camera and microphone (getUserMedia), device
// lists, the on/off switches, screen sharing (getDisplayMedia), and audio
// levels for the speaking indicator. It hands out tracks; the mesh puts
// them on the wire with replaceTrack (senders.js). No DOM.

import { Emitter } from '../util/emitter.js';

/** @typedef {'ok' | 'off' | 'denied' | 'none' | 'busy' | 'error'} Access */
/** @typedef {{cameras: MediaDeviceInfo[], mics: MediaDeviceInfo[], speakers: MediaDeviceInfo[]}} Devices */
/**
 * @typedef {{
 *   track: {kind: 'audio' | 'video'},
 *   state: {},
 *   devices: Devices,
 *   'screen-ended': {},
 * }} MediaEvents
 */

/** What the camera is asked for: 720p, which the governor scales down as rooms grow. */
export const CAMERA_CONSTRAINTS = Object.freeze({
  width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30, max: 30 },
});
export const MIC_CONSTRAINTS = Object.freeze({
  echoCancellation: true, noiseSuppression: true, autoGainControl: true,
});

/** True when this browser can take part in a call at all. */
export function webrtcSupported() {
  return typeof RTCPeerConnection === 'function' && typeof RTCRtpSender === 'function' &&
    'replaceTrack' in RTCRtpSender.prototype && typeof navigator === 'object' &&
    !!navigator.mediaDevices && typeof navigator.mediaDevices.getUserMedia === 'function';
}

/**
 * Maps a getUserMedia failure to what we tell the user.
 * @param {unknown} e
 * @returns {Access}
 */
export function accessOf(e) {
  const name = e instanceof Error || (typeof e === 'object' && e && 'name' in e) ? String(/** @type {any} */ (e).name) : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'none';
  if (name === 'NotReadableError' || name === 'AbortError') return 'busy';
  return 'error';
}

/** @extends {Emitter<MediaEvents>} */
export class Media extends Emitter {
  constructor() {
    super();
    /** @type {MediaStreamTrack | null} */
    this.mic = null;
    /** @type {MediaStreamTrack | null} */
    this.cam = null;
    /** @type {MediaStreamTrack | null} */
    this.screen = null;
    /** What the user wants (the tracks follow). */
    this.micOn = true;
    this.camOn = true;
    /** Chosen devices ('' for the default). */
    this.micId = '';
    this.camId = '';
    /** The browser's noise suppression on the microphone (on unless switched off). */
    this.noiseSuppression = true;
    /** @type {{audio: Access, video: Access}} */
    this.access = { audio: 'off', video: 'off' };
    this.onDeviceChange = () => { this.listDevices().then((d) => this.emit('devices', d)).catch(() => {}); };
    navigator.mediaDevices?.addEventListener?.('devicechange', this.onDeviceChange);
  }

  /** @param {boolean} exact */
  videoConstraints(exact) {
    return this.camId ? { ...CAMERA_CONSTRAINTS, deviceId: exact ? { exact: this.camId } : { ideal: this.camId } } : { ...CAMERA_CONSTRAINTS };
  }

  /** @param {boolean} exact */
  audioConstraints(exact) {
    const base = { ...MIC_CONSTRAINTS, noiseSuppression: this.noiseSuppression };
    return this.micId ? { ...base, deviceId: exact ? { exact: this.micId } : { ideal: this.micId } } : base;
  }

  /**
   * Asks for what the switches say, in one prompt when both are on; a kind
   * that fails alone is retried alone so that, say, a missing camera does
   * not cost the microphone.
   * @param {{micOn: boolean, camOn: boolean, micId?: string, camId?: string, noise?: boolean}} want
   * @returns {Promise<{audio: Access, video: Access}>}
   */
  async open(want) {
    this.micOn = want.micOn;
    this.camOn = want.camOn;
    this.micId = want.micId ?? '';
    this.camId = want.camId ?? '';
    this.noiseSuppression = want.noise ?? true;
    const audio = this.micOn && !this.mic;
    const video = this.camOn && !this.cam && !this.screen;
    if (audio && video) {
      try {
        const s = await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints(false), video: this.videoConstraints(false) });
        this.setMic(s.getAudioTracks()[0] ?? null);
        this.setCam(s.getVideoTracks()[0] ?? null);
        this.access = { audio: this.mic ? 'ok' : 'none', video: this.cam ? 'ok' : 'none' };
      } catch (e) {
        if (accessOf(e) === 'denied') {
          this.access = { audio: 'denied', video: 'denied' };
        } else {
          await this.acquire('audio');
          await this.acquire('video');
        }
      }
    } else {
      if (audio) await this.acquire('audio');
      if (video) await this.acquire('video');
    }
    if (!this.micOn) this.access.audio = 'off';
    if (!this.camOn) this.access.video = 'off';
    this.emit('state', {});
    return this.access;
  }

  /**
   * Gets a track of `kind` with the chosen device; records the outcome.
   * @param {'audio' | 'video'} kind
   * @param {boolean} [exact]  insist on the chosen device
   * @returns {Promise<boolean>}
   */
  async acquire(kind, exact = false) {
    try {
      const s = await navigator.mediaDevices.getUserMedia(kind === 'audio'
        ? { audio: this.audioConstraints(exact) } : { video: this.videoConstraints(exact) });
      const t = kind === 'audio' ? s.getAudioTracks()[0] : s.getVideoTracks()[0];
      if (!t) throw Object.assign(new Error('no track'), { name: 'NotFoundError' });
      if (kind === 'audio') this.setMic(t); else this.setCam(t);
      this.access[kind] = 'ok';
      return true;
    } catch (e) {
      this.access[kind] = accessOf(e);
      console.warn(`xroom: no ${kind}`, e);
      return false;
    }
  }

  /** @param {MediaStreamTrack | null} t */
  setMic(t) {
    if (this.mic && this.mic !== t) this.mic.stop();
    this.mic = t;
    if (t) {
      t.enabled = this.micOn;
      t.addEventListener('ended', () => {
        if (this.mic !== t) return;
        this.mic = null;
        this.access.audio = 'none';
        this.emit('track', { kind: 'audio' });
        this.emit('state', {});
      });
    }
  }

  /** @param {MediaStreamTrack | null} t */
  setCam(t) {
    if (this.cam && this.cam !== t) this.cam.stop();
    this.cam = t;
    if (t) {
      t.contentHint = 'motion';
      t.addEventListener('ended', () => {
        if (this.cam !== t) return;
        this.cam = null;
        this.access.video = 'none';
        if (!this.screen) this.emit('track', { kind: 'video' });
        this.emit('state', {});
      });
    }
  }

  /** The video that goes out: the shared screen, else the camera. */
  get videoTrack() { return this.screen ?? this.cam; }
  /** @returns {'camera' | 'screen'} */
  get videoSource() { return this.screen ? 'screen' : 'camera'; }
  /** The microphone track (sent even while muted: muting disables it). */
  get audioTrack() { return this.mic; }

  /** What others are told about us. */
  get micLive() { return this.micOn && !!this.mic; }
  get camLive() { return this.camOn && !!this.cam; }

  /** @param {boolean} on */
  async setMicOn(on) {
    this.micOn = on;
    if (this.mic) {
      this.mic.enabled = on;
    } else if (on && await this.acquire('audio')) {
      this.emit('track', { kind: 'audio' });
    }
    if (!on && this.access.audio === 'ok') this.access.audio = 'off';
    this.emit('state', {});
  }

  /**
   * Camera off stops the device (its light goes out); on asks for it again.
   * While the screen is shared the camera stays off and comes back after.
   * @param {boolean} on
   */
  async setCamOn(on) {
    this.camOn = on;
    if (!on) {
      this.setCam(null);
      if (this.access.video === 'ok') this.access.video = 'off';
      if (!this.screen) this.emit('track', { kind: 'video' });
    } else if (!this.cam && !this.screen) {
      if (await this.acquire('video')) this.emit('track', { kind: 'video' });
    }
    this.emit('state', {});
  }

  /** @param {string} id */
  async selectMic(id) {
    this.micId = id;
    if (!this.mic) return;
    if (await this.acquire('audio', true)) this.emit('track', { kind: 'audio' });
    this.emit('state', {});
  }

  /** @param {string} id */
  async selectCamera(id) {
    this.camId = id;
    if (!this.cam || this.screen) return;
    if (await this.acquire('video', true)) this.emit('track', { kind: 'video' });
    this.emit('state', {});
  }

  /**
   * Noise suppression on or off. A running microphone is opened again with
   * it (Chromium does not change audio processing on a live track), and the
   * new track replaces the old one on every connection (a moment of
   * silence).
   * @param {boolean} on
   */
  async setNoiseSuppression(on) {
    this.noiseSuppression = on;
    if (this.mic) {
      // Stopped first: Chromium opens a device with one processing setting
      // at a time, and would hand back the old one.
      this.setMic(null);
      await this.acquire('audio', !!this.micId);
      this.emit('track', { kind: 'audio' });
    }
    this.emit('state', {});
  }

  /** @returns {Promise<Devices>} */
  async listDevices() {
    const all = await navigator.mediaDevices.enumerateDevices();
    return {
      cameras: all.filter((d) => d.kind === 'videoinput' && d.deviceId),
      mics: all.filter((d) => d.kind === 'audioinput' && d.deviceId),
      speakers: all.filter((d) => d.kind === 'audiooutput' && d.deviceId),
    };
  }

  /** True when this browser can share a screen. */
  get canShareScreen() {
    return typeof navigator.mediaDevices?.getDisplayMedia === 'function';
  }

  /**
   * Shares a screen, window or tab in place of the camera (the camera is
   * released meanwhile). Resolves false when the user cancels.
   * @returns {Promise<boolean>}
   */
  async startScreen() {
    if (this.screen) return true;
    let s;
    try {
      s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
    } catch (e) {
      console.warn('xroom: no screen', e);
      return false;
    }
    const t = s.getVideoTracks()[0];
    if (!t) return false;
    t.contentHint = 'detail';
    this.screen = t;
    t.addEventListener('ended', () => { if (this.screen === t) this.stopScreen(); });
    if (this.cam) { this.cam.stop(); this.cam = null; }
    this.emit('track', { kind: 'video' });
    this.emit('state', {});
    return true;
  }

  async stopScreen() {
    if (!this.screen) return;
    this.screen.stop();
    this.screen = null;
    if (this.camOn) await this.acquire('video');
    this.emit('track', { kind: 'video' });
    this.emit('screen-ended', {});
    this.emit('state', {});
  }

  /** Stops every device. */
  stop() {
    navigator.mediaDevices?.removeEventListener?.('devicechange', this.onDeviceChange);
    for (const t of [this.mic, this.cam, this.screen]) t?.stop();
    this.mic = this.cam = this.screen = null;
  }
}

/**
 * The loudness of a local track, from a Web Audio analyser (RMS of the
 * waveform, 0 to 1). Remote levels come from RTCRtpReceiver instead.
 */
export class LevelMeter {
  /** @type {AudioContext | null} */
  static ctx = null;

  /** Resumes the shared AudioContext; call from a user gesture. */
  static unlock() {
    LevelMeter.ctx?.resume().catch(() => {});
  }

  /** @param {MediaStreamTrack} track */
  constructor(track) {
    if (!LevelMeter.ctx) LevelMeter.ctx = new AudioContext();
    const ctx = LevelMeter.ctx;
    this.track = track;
    this.source = ctx.createMediaStreamSource(new MediaStream([track]));
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 512;
    this.buf = new Float32Array(this.analyser.fftSize);
    this.source.connect(this.analyser);
  }

  /** @returns {number} */
  level() {
    if (!this.track.enabled || this.track.readyState !== 'live') return 0;
    this.analyser.getFloatTimeDomainData(this.buf);
    let sum = 0;
    for (const v of this.buf) sum += v * v;
    return Math.min(1, Math.sqrt(sum / this.buf.length) * 2);
  }

  stop() {
    try { this.source.disconnect(); } catch { /* already */ }
  }
}

/**
 * Turns a stream of audio levels into "speaking": on above `on`, and kept
 * for `holdMs` after the level last was, so the indicator does not flicker
 * between syllables. Pure.
 */
export class SpeakingDetector {
  /** @param {{on?: number, holdMs?: number}} [opts] */
  constructor(opts = {}) {
    this.on = opts.on ?? 0.04;
    this.holdMs = opts.holdMs ?? 600;
    this.lastLoud = -Infinity;
  }

  /**
   * @param {number} level  0 to 1
   * @param {number} now  milliseconds
   * @returns {boolean}
   */
  update(level, now) {
    if (level >= this.on) this.lastLoud = now;
    return now - this.lastLoud <= this.holdMs;
  }
}
