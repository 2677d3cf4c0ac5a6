// Browser-test helpers: a daemon on a free loopback port that can be killed
// and restarted on the same port, one headless Chromium with fake camera,
// microphone and screen, pages that open a room link and join, and access
// to the client's test hook (window.xroomTest, present with ?test).

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export { sleep };

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const XROOMD = process.env.XROOMD || join(REPO_ROOT, 'build', 'xroomd');
/** What the daemons serve: web/, or XROOM_WEB_ROOT (a copy under work, say). */
export const WEB_ROOT = process.env.XROOM_WEB_ROOT || join(REPO_ROOT, 'web');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
/** Where screenshots of a run go. */
export const ARTIFACTS = process.env.XROOM_ARTIFACTS || join(tmpdir(), 'xroom-artifacts');

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  // Several pages share two cores: keep background pages running at full speed.
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/** When this test process started: console lines carry seconds since. */
const T0 = Date.now();
const LISTEN_RE = /listening on http:\/\/127\.0\.0\.1:(\d+)\//;
const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

export class Daemon {
  /**
   * @param {object} config
   * @param {{webRoot?: string}} [opts]  webRoot: what it serves (default web/)
   */
  constructor(config, opts = {}) {
    this.webRoot = opts.webRoot ?? WEB_ROOT;
    this.dir = mkdtempSync(join(tmpdir(), 'xroomd-bt-'));
    this.config = join(this.dir, 'config.json');
    writeFileSync(this.config, JSON.stringify(config));
    this.port = 0;
    this.proc = null;
    this.stderr = '';
  }

  get origin() { return `http://127.0.0.1:${this.port}`; }

  /** Starts on this.port (0 the first time: the kernel picks one). */
  async start() {
    if (!existsSync(XROOMD)) throw new Error(`xroomd not found at ${XROOMD} (build it or set XROOMD)`);
    const proc = spawn(XROOMD, [
      '--listen', `127.0.0.1:${this.port}`, '--state-dir', join(this.dir, 'state'),
      '--web-root', this.webRoot, '--config', this.config,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    live.add(proc);
    proc.on('exit', () => live.delete(proc));
    proc.stderr.setEncoding('utf8');
    this.port = await new Promise((res, rej) => {
      let buf = '';
      const t = setTimeout(() => rej(new Error(`xroomd did not listen within 10 s:\n${buf}`)), 10000);
      proc.stderr.on('data', (s) => {
        buf += s;
        this.stderr += s;
        const m = LISTEN_RE.exec(buf);
        if (m) { clearTimeout(t); res(Number(m[1])); }
      });
      proc.on('exit', (code, sig) => { clearTimeout(t); rej(new Error(`xroomd exited (${code ?? sig}):\n${buf}`)); });
    });
    return this;
  }

  /** SIGKILL: no goodbye to anyone. */
  async kill() {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((res) => p.once('exit', res));
    p.kill('SIGKILL');
    await gone;
  }

  async stop() {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const gone = new Promise((res) => p.once('exit', res));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** GET a JSON route. */
  async json(path) {
    const r = await fetch(`${this.origin}${path}`);
    return r.json();
  }
}

/** @param {object} [config] */
export async function startDaemon(config = {}) {
  return new Daemon(config).start();
}

/**
 * For a describe block: a daemon with `config` started before its tests,
 * and after them every page in `pages` closed and the daemon stopped.
 * Returns {daemon, pages} (daemon set once started).
 */
export function daemonForSuite(config = {}) {
  const suite = {
    daemon: /** @type {Daemon | null} */ (null),
    pages: [],
    /** joinPage on this suite's daemon; the page is closed with the suite. */
    async join(browser, path, opts = {}) {
      const p = await joinPage(browser, suite.daemon, path, opts);
      suite.pages.push(p);
      return p;
    },
    /** callOf on this suite's daemon, in a new room; the pages are closed with the suite. */
    async call(browser, names, opts = {}) {
      const pages = await callOf(browser, suite.daemon, roomLink(), names, opts);
      suite.pages.push(...pages);
      return pages;
    },
  };
  before(async () => { suite.daemon = await startDaemon(config); });
  after(async () => {
    for (const p of suite.pages) await p.context.close();
    await suite.daemon?.stop();
  });
  return suite;
}

/**
 * The longest any single wait for a state may take before the test fails.
 * Tests wait for states, never for time: this bound only turns a hang into
 * a failure, and is generous so that a loaded machine (two browsers and
 * the daemon on two cores) does not trip it. XROOM_TEST_PATIENCE (ms)
 * overrides it.
 */
export const PATIENCE = Number(process.env.XROOM_TEST_PATIENCE) || 90000;

export async function launch(extraArgs = []) {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** A fresh room link path: /r/<22 chars>#<43 chars>. */
export function roomLink() {
  return `/r/${randomBytes(16).toString('base64url')}?test=1#${randomBytes(32).toString('base64url')}`;
}

/**
 * A new browser context and page on `path`, with console errors and
 * requests recorded. opts.name is stored as the display name before load;
 * opts.before(context, page) runs before the navigation (routes, listeners).
 */
export async function openPage(browser, daemon, path, opts = {}) {
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 720 }, ...(opts.context ?? {}) });
  context.setDefaultTimeout(PATIENCE);
  const page = await context.newPage();
  const log = { errors: [], console: [], requests: [], csp: [] };
  page.on('pageerror', (e) => log.errors.push(String(e)));
  page.on('console', (m) => {
    const text = m.text();
    log.console.push(`${((Date.now() - T0) / 1000).toFixed(1)} ${m.type()}: ${text}`);
    if (/Content.Security.Policy|Refused to/i.test(text)) log.csp.push(text);
  });
  page.on('request', (r) => log.requests.push(r.url()));
  if (opts.name !== undefined || opts.init) {
    await context.addInitScript(({ name }) => {
      // Runs in every frame, sandboxed ones (plugins, the WebRTC probe)
      // included, which have no storage.
      if (self.origin === 'null' || window.top !== window) return;
      if (name !== undefined && !localStorage.getItem('xroom.profile')) {
        localStorage.setItem('xroom.profile', JSON.stringify({ name }));
      }
    }, { name: opts.name });
  }
  if (opts.init) await context.addInitScript(opts.init);
  if (opts.before) await opts.before(context, page);
  await page.goto(`${daemon.origin}${path}`);
  return { context, page, log, name: opts.name };
}

/** Opens the link and presses Join; resolves once in the call. */
export async function joinPage(browser, daemon, path, opts = {}) {
  const p = await openPage(browser, daemon, path, opts);
  await p.page.getByRole('button', { name: 'Join', exact: true }).click({ timeout: PATIENCE });
  await p.page.locator('#screen-call').waitFor({ state: 'visible', timeout: PATIENCE });
  return p;
}

/**
 * Presses a call control by its name, from the More panel when the bar is
 * too narrow to hold it (web/js/views/more-menu.js: a phone, or a panel
 * open beside the call).
 */
export async function pressControl(page, name) {
  const b = page.getByRole('button', { name, exact: true });
  const more = page.getByRole('button', { name: 'More', exact: true });
  if (!await b.isVisible() && await more.isVisible()) await more.click();
  await b.click({ timeout: PATIENCE });
}

/**
 * A call: one page per name joins `path`, one after the other (each with
 * `opts`), and media flows between all. Resolves to the pages.
 */
export async function callOf(browser, daemon, path, names, opts = {}) {
  const pages = [];
  for (const name of names) pages.push(await joinPage(browser, daemon, path, { ...opts, name }));
  await waitMediaFlowing(pages);
  return pages;
}

export function stats(page) {
  return page.evaluate(() => window.xroomTest.stats());
}

/** Polls fn until it returns a truthy value. */
export async function waitFor(fn, { timeout = PATIENCE, interval = 250, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timeout after ${timeout} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    }
    await sleep(interval);
  }
}

/**
 * Waits until every page decodes video and receives audio from each of the
 * others: framesDecoded and audio packets rise between two samples.
 * Returns the last stats of each page.
 */
export async function waitMediaFlowing(pages, { timeout = PATIENCE, what = 'media from every peer' } = {}) {
  const others = pages.length - 1;
  let before = await Promise.all(pages.map((p) => stats(p.page)));
  try {
    return await waitFor(async () => {
    await sleep(700);
    const now = await Promise.all(pages.map((p) => stats(p.page)));
    const ok = now.every((s, i) => {
      if (s.peers.length !== others) return false;
      return s.peers.every((peer) => {
        const old = before[i].peers.find((q) => q.tab === peer.tab);
        return old && peer.framesDecoded > old.framesDecoded && peer.audioPackets > old.audioPackets;
      });
    });
    // Each peer as badge:frames/audio; one that is not flowing also with
    // its connection's states and counters, for the failure message.
    const summary = now.map((s, i) => `${s.signaling}${s.signalsRejected ? ` rejected ${s.signalsRejected}` : ''} ` + s.peers.map((p) => {
      const old = before[i].peers.find((q) => q.tab === p.tab);
      const flowing = old && p.framesDecoded > old.framesDecoded && p.audioPackets > old.audioPackets;
      const head = `${p.badge}:${p.framesDecoded}f/${p.audioPackets}a`;
      return flowing ? head : `${head}[${p.connectionState}/${p.signalingState} gen ${p.gen} ` +
        `restarts ${p.iceRestarts} rebuilds ${p.rebuilds} negotiations ${p.negotiations} ${p.peerId ? 'bound' : 'unbound'} ${p.polite ? 'polite' : 'impolite'}]`;
    }).join(','));
    before = now;
    return ok ? now : (() => { throw new Error(summary.join(' | ')); })();
    }, { timeout, interval: 0, what });
  } catch (e) {
    // What each client said about its connections, what it sends, and its
    // encryption counters per peer, for the report.
    const said = await Promise.all(pages.map(async (p) => {
      const [s, k] = await Promise.all([stats(p.page).catch(() => null), p.page.evaluate(() => window.xroomTest.e2ee()).catch(() => null)]);
      const sending = (s?.peers ?? []).map((q) => `  to ${q.tab}: ${JSON.stringify({ sending: q.sending, unsealed: q.unsealed, bypasses: q.bypasses, lock: q.lock })}`);
      const keys = Object.entries(k?.peers ?? {}).map(([t, q]) => `  keys with ${t}: ${JSON.stringify({
        present: q.present, sentId: q.sentId, acked: q.acked, recvId: q.recvId, held: q.heldKeyIds, ...q.counters })}`);
      const self = k ? [`  tab ${s?.tab ?? '?'}, sends with key ${k.sendKeyId} (worker ${k.workerSendKeyId}, next ${k.pendingKeyId}); ` +
        `keys refused ${k.keysRefused}, signals rejected ${k.signalsRejected}; transforms ${JSON.stringify(k.transforms)}`] : [];
      const lines = (p.log?.console ?? []).filter((l) => l.includes('xroom:')).slice(-25).map((l) => `  ${l}`);
      return [`${p.name ?? '?'}:`, ...self, ...sending, ...keys, ...lines].join('\n');
    }));
    throw new Error(`${/** @type {Error} */ (e).message}\n${said.join('\n')}`);
  }
}

/** Counts frames decoded on `page` from peer `tab` over `ms`. */
export async function framesOver(page, tab, ms = 1500) {
  const a = (await stats(page)).peers.find((p) => p.tab === tab);
  await sleep(ms);
  const b = (await stats(page)).peers.find((p) => p.tab === tab);
  return (b?.framesDecoded ?? 0) - (a?.framesDecoded ?? 0);
}

/** Waits until `p` has open data channels (chat, and files with them) to `n` peers. */
export function channelsOpen(p, n) {
  return waitFor(async () => (await p.page.evaluate(() => window.xroomTest.chat()))?.open.length === n,
    { timeout: PATIENCE, what: `${p.name}: data channels to ${n} peers` });
}

/** Opens the chat panel of `page` if it is closed. */
export async function openChat(page) {
  if (await page.locator('#chat').isHidden()) await page.getByRole('button', { name: /^Chat/ }).click();
  await page.locator('#chat').waitFor({ state: 'visible' });
}

export async function tab(page) {
  return page.evaluate(() => window.xroomTest.tab);
}

export function artifactPath(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/** The page's own asset requests must all go to the daemon. */
export function foreignRequests(log, origin) {
  return log.requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
}

/**
 * Records the text of every WebSocket frame `page` sends and receives
 * (register before the page opens its socket). Returns the list it fills.
 */
export function captureFrames(page) {
  const frames = [];
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => frames.push({ dir: 'sent', text: String(f.payload) }));
    ws.on('framereceived', (f) => frames.push({ dir: 'received', text: String(f.payload) }));
  });
  return frames;
}
