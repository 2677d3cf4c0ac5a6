// Firefox helpers for the browser tests: Debian's Firefox ESR, headless,
// driven by puppeteer-core over WebDriver BiDi (no browser download),
// with fake camera and microphone, and pages that open a room link and
// join, next to Chromium (util.mjs, playwright-core) in the same room.
//
// Firefox gathers no ICE candidate on a loopback-only network, and does
// not gather loopback candidates by default: the page loads the room from
// the daemon on 127.0.0.1, and ICE uses the machine's other interfaces
// (host candidates in the clear: obfuscate_host_addresses off). Traffic
// stays on the machine.

import { existsSync } from 'node:fs';
import puppeteer from 'puppeteer-core';
import { sleep, waitFor, PATIENCE } from './util.mjs';

export const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';

/** Preferences of the test profile. */
export const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  // Several pages of one Firefox share two cores: each has a window of
  // its own, and none is throttled or has its video suspended when it is
  // not in front (Chromium's --disable-background-timer-throttling and
  // --disable-renderer-backgrounding).
  'dom.min_background_timeout_value': 4,
  'dom.timeout.enable_budget_timer_throttling': false,
  'media.suspend-bkgnd-video.enabled': false,
  'media.block-autoplay-until-in-foreground': false,
  'media.autoplay.default': 0,
};

/**
 * Why the Firefox tests cannot run here, or '' when they can. Absent
 * Firefox is a reason to skip only outside CI: in CI (CI=true) the tests
 * run and fail.
 */
export function firefoxSkip() {
  if (existsSync(FIREFOX)) return '';
  if (process.env.CI === 'true') return '';
  return `${FIREFOX} not found: install Debian's firefox-esr (bash .ci/deps test) to run the Firefox tests`;
}

export async function launchFirefox() {
  if (!existsSync(FIREFOX)) throw new Error(`${FIREFOX} not found (CI=true: Firefox ESR is required; bash .ci/deps test installs it)`);
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    protocol: 'webDriverBiDi',
    headless: true,
    extraPrefsFirefox: FIREFOX_PREFS,
  });
}

/**
 * A new Firefox context and page on `path`, console errors recorded.
 * opts.name: the display name stored before load; opts.init: a function
 * run in the page before its scripts.
 */
export async function openFirefoxPage(browser, daemon, path, opts = {}) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage({ type: 'window' });
  await page.setViewport({ width: 1280, height: 720 });
  const log = { errors: [], console: [] };
  page.on('pageerror', (e) => log.errors.push(String(e)));
  page.on('console', (m) => log.console.push(`${m.type()}: ${m.text()}`));
  if (opts.name !== undefined) {
    await page.evaluateOnNewDocument((name) => {
      try {
        if (!localStorage.getItem('xroom.profile')) localStorage.setItem('xroom.profile', JSON.stringify({ name }));
      } catch { /* about:blank has no storage */ }
    }, opts.name);
  }
  if (opts.init) await page.evaluateOnNewDocument(opts.init);
  await page.goto(`${daemon.origin}${path}`);
  return { context, page, log, name: opts.name, browser: 'firefox' };
}

/** Opens the link in Firefox and presses Join; resolves once in the call. */
export async function joinFirefoxPage(browser, daemon, path, opts = {}) {
  const p = await openFirefoxPage(browser, daemon, path, opts);
  await p.page.waitForSelector('#join:not([disabled])', { visible: true, timeout: PATIENCE });
  await p.page.click('#join');
  await p.page.waitForSelector('#screen-call', { visible: true, timeout: PATIENCE });
  return p;
}

export { sleep, waitFor };

/** Clicks `selector` on a Chromium (playwright) or Firefox (puppeteer) page. */
export async function click(p, selector) {
  await p.page.locator(selector).click();
}

/** Types `text` into the chat box and presses Enter, in either browser. */
export async function say(p, text) {
  await openChat(p);
  if (p.browser === 'firefox') {
    await p.page.locator('#chat-input').fill(text);
    await p.page.focus('#chat-input');
    await p.page.keyboard.press('Enter');
  } else {
    await p.page.fill('#chat-input', text);
    await p.page.press('#chat-input', 'Enter');
  }
}

/** Opens the chat panel if it is closed. */
export async function openChat(p) {
  const hidden = await p.page.evaluate(() => document.getElementById('chat')?.hidden ?? true);
  if (hidden) await click(p, '#btn-chat');
  await waitFor(() => p.page.evaluate(() => document.getElementById('chat')?.hidden === false), { what: 'chat panel open' });
}

/** The chat log's text. */
export function chatText(p) {
  return p.page.evaluate(() => document.getElementById('chat-log')?.textContent ?? '');
}

/**
 * An init script for a page whose media keys are wrong: every AES-GCM key
 * imported once the frame worker exists (its own media key and the keys
 * the others share with it) is made from random bytes instead. Its room
 * keys (imported before the worker) are right, so it joins, connects and
 * exchanges keys; its frames and the others' do not authenticate.
 */
export function wrongMediaKeys() {
  if (self.origin === 'null') return; // a sandboxed frame (the WebRTC probe): not the app
  const NativeWorker = window.Worker;
  let armed = false;
  window.Worker = class extends NativeWorker {
    constructor(url, options) {
      super(url, options);
      if (options?.name === 'xroom-e2ee') armed = true;
    }
  };
  const importKey = crypto.subtle.importKey.bind(crypto.subtle);
  crypto.subtle.importKey = (format, data, alg, ...rest) => {
    const name = typeof alg === 'string' ? alg : alg?.name;
    if (armed && format === 'raw' && name === 'AES-GCM') data = crypto.getRandomValues(new Uint8Array(data.byteLength));
    return importKey(format, data, alg, ...rest);
  };
}

/** An init script: a browser without encoded transforms. */
export function noEncodedTransforms() {
  delete window.RTCRtpScriptTransform;
  delete RTCRtpSender.prototype.createEncodedStreams;
  delete RTCRtpReceiver.prototype.createEncodedStreams;
}

/**
 * An init script (text, for either browser) that puts the codec `mime`
 * first wherever the page sets codec preferences: the receivers then ask
 * for it, as a browser preferring it would.
 * @param {string} mime  e.g. 'video/vp9'
 */
export function preferCodec(mime) {
  const fn = (want) => {
    const set = RTCRtpTransceiver.prototype.setCodecPreferences;
    RTCRtpTransceiver.prototype.setCodecPreferences = function (codecs) {
      const is = (c) => c.mimeType.toLowerCase() === want;
      return set.call(this, [...codecs.filter(is), ...codecs.filter((c) => !is(c))]);
    };
  };
  return `(${fn})(${JSON.stringify(mime)})`;
}
