// @ts-check
// plugins-view.js: the DOM of plugins. The Plugins dialog (what exists,
// what is active in the call and who started it), the consent dialog
// (manifest, permissions in plain words, privacy policy; nothing runs
// before "Run it"), the notice when someone else starts one, the chips in
// the call bar, and the panel that holds the running plugins' frames: each
// made here, sandboxed, and reported to plugins.js when it loads the
// plugin's page (connect) or any other (evict).

import { PERMISSION_TEXT, entryOf, policyOf } from '../features/plugins.js';
import { byId as $, button as plainButton, h } from './dom.js';

/** @typedef {import('../features/plugins.js').Manifest} Manifest */

/** @param {keyof HTMLElementTagNameMap} tag @param {string} [text] @param {string} [cls] */
function el(tag, text = '', cls = '') {
  return h(tag, { text: text || undefined, class: cls });
}

/** @param {string} text @param {() => void} fn @param {string} [cls] @param {string} [aria] */
function button(text, fn, cls = '', aria = '') {
  const b = plainButton(text, cls, fn);
  if (aria) b.setAttribute('aria-label', aria);
  return b;
}

/**
 * The frame a plugin runs in: sandboxed to scripts alone (never
 * allow-same-origin, allow-popups, allow-top-navigation, allow-forms), no
 * camera, microphone, screen, clipboard or location, no referrer; pointed
 * at the plugin's page before it is ever in the document, so that its
 * first load is the plugin's.
 * @param {Manifest} m
 */
function pluginFrame(m) {
  const frame = h('iframe', {
    class: 'plugin-frame',
    attrs: {
      sandbox: 'allow-scripts',
      allow: "camera 'none'; microphone 'none'; display-capture 'none'; clipboard-read 'none'; clipboard-write 'none'; geolocation 'none'",
      referrerpolicy: 'no-referrer',
    },
  });
  frame.title = `${m.name} (plugin)`;
  frame.dataset.plugin = m.id;
  frame.src = entryOf(m);
  return frame;
}

/** How long the WebRTC probe may take before plugins are held off anyway. */
const PROBE_TIMEOUT_MS = 30000;

/**
 * Whether this browser keeps a plugin page off the network: a sandboxed
 * frame served like a plugin (web/plugins/_shared/webrtc-probe.js) tries
 * to connect two peer connections of its own to each other. Chromium from
 * 156 blocks that for plugin pages (the daemon's Connection-Allowlist
 * header); a browser where they connect could let a plugin send data
 * anywhere by WebRTC, which no CSP governs, so it runs no plugin.
 * @returns {Promise<'contained' | 'open' | 'unknown'>}
 */
function probeContainment() {
  return new Promise((resolve) => {
    const frame = h('iframe', { attrs: { sandbox: 'allow-scripts', referrerpolicy: 'no-referrer', 'aria-hidden': 'true', tabindex: '-1' } });
    frame.hidden = true;
    frame.title = 'xroom plugin check';
    /** @param {'contained' | 'open' | 'unknown'} v */
    const done = (v) => {
      removeEventListener('message', onMessage);
      clearTimeout(timer);
      frame.remove();
      resolve(v);
    };
    /** @param {MessageEvent} ev */
    const onMessage = (ev) => {
      if (ev.source !== frame.contentWindow || ev.data?.type !== 'xroom:webrtc-probe') return;
      // Contained only if the connection never even started (where WebRTC
      // is blocked it stays "new"; "error": no WebRTC at all). Connecting,
      // failed or connected: packets went out, or could have; a machine
      // too slow to finish within the probe's wait is no reason to run.
      done(!ev.data.connected && (ev.data.state === 'new' || ev.data.state === 'error') ? 'contained' : 'open');
    };
    const timer = setTimeout(() => done('unknown'), PROBE_TIMEOUT_MS);
    addEventListener('message', onMessage);
    frame.src = '/plugins/_shared/webrtc-probe.html';
    document.body.append(frame);
  });
}

/** What the consent dialog says when plugins cannot run here. */
const UNCONTAINED = {
  open: 'Plugins are off in this browser: it cannot stop a plugin from sending data over a peer-to-peer (WebRTC) connection, where xroom could not see or stop it. Chromium-based browsers from version 156 keep plugins off the network.',
  unknown: 'Plugins are off for now: xroom could not check that this browser keeps plugins off the network.',
};

export class PluginsView {
  /**
   * @param {import('../features/plugins.js').Plugins} plugins
   * @param {{name: (tab: string) => string, tab: string, announce: (text: string) => void}} host
   */
  constructor(plugins, host) {
    this.plugins = plugins;
    this.host = host;
    this.el = {
      button: $('btn-plugins'),
      dialog: /** @type {HTMLDialogElement} */ ($('plugins-dialog')),
      list: $('plugins-list'),
      consent: /** @type {HTMLDialogElement} */ ($('consent-dialog')),
      consentBody: $('consent-body'),
      consentTitle: $('consent-h'),
      consentRun: /** @type {HTMLButtonElement} */ ($('consent-run')),
      notice: $('plugin-notice'),
      chips: $('plugin-chips'),
      panel: $('plugin-panel'),
      tabs: $('plugin-tabs'),
      stage: $('plugin-stage'),
      close: $('plugin-close'),
    };
    /** which running plugin the panel shows */
    this.shown = '';
    /** @type {Map<string, HTMLIFrameElement>} the frame of each plugin running here */
    this.frames = new Map();
    /** @type {string} the plugin the consent dialog asks about */
    this.asking = '';
    /** counts consent dialogs, so a late policy fills only its own */
    this.asked = 0;
    /** whether this browser keeps plugins off the network (checked once, at start) */
    /** @type {'pending' | 'contained' | 'open' | 'unknown'} */
    this.containment = 'pending';
    /** @type {Promise<void> | null} */
    this.probing = null;
    // Only when plugins come up (the Plugins dialog, someone starts one):
    // a call that never uses a plugin makes no extra peer connection.
    const e = this.el;
    e.button.addEventListener('click', () => {
      this.contained();
      this.renderList();
      e.dialog.showModal();
    });
    e.consent.addEventListener('close', () => {
      const id = this.asking;
      this.asking = '';
      if (e.consent.returnValue === 'run' && id) this.start(id);
    });
    e.close.addEventListener('click', () => this.showPanel(false));
    plugins.on('changed', () => this.render());
    plugins.on('available', () => this.render());
    plugins.on('started', ({ id, by }) => this.notify(id, by));
    plugins.on('stopped', ({ id }) => {
      this.frames.get(id)?.remove();
      this.frames.delete(id);
    });
    plugins.on('evicted', ({ id }) => {
      const name = plugins.available.get(id)?.name ?? id;
      const n = this.el.notice;
      n.replaceChildren(el('span', `${name} tried to leave its page and was stopped.`),
        button('OK', () => { n.hidden = true; }));
      n.hidden = false;
      host.announce(`${name} tried to leave its page and was stopped.`);
    });
  }

  /** The WebRTC check, run once (on first need). @returns {Promise<void>} */
  contained() {
    this.probing ??= probeContainment().then((v) => {
      this.containment = v;
      if (v !== 'contained') console.warn(`xroom: plugins are off in this browser (WebRTC check: ${v})`);
    });
    return this.probing;
  }

  /** Asks before running `id`: its manifest, permissions and privacy policy. @param {string} id */
  async ask(id) {
    const m = this.plugins.available.get(id);
    if (!m) return;
    const e = this.el;
    this.asking = id;
    e.consentTitle.textContent = `Run ${m.name}?`;
    const body = e.consentBody;
    body.replaceChildren();
    body.append(el('p', `${m.name} ${m.version}, by ${m.author}${m.bundled ? ' (comes with xroom)' : ' (added by this server’s operator; not made by xroom)'}`, 'muted'));
    if (m.description) body.append(el('p', m.description));
    body.append(el('h3', 'It may'));
    const perms = el('ul', '', 'consent-perms');
    for (const p of m.permissions) perms.append(el('li', PERMISSION_TEXT[/** @type {keyof typeof PERMISSION_TEXT} */ (p)] ?? p));
    if (!m.permissions.length) perms.append(el('li', 'Nothing beyond showing itself in this window'));
    body.append(perms);
    body.append(el('p', 'It runs sealed off from the call: no camera, microphone or screen, no network, no access to your keys, chat, files, card or this page. Others in the call see that you run it.', 'muted'));
    body.append(el('h3', 'Privacy policy'));
    const pol = policyOf(m);
    this.asked += 1;
    const ticket = this.asked;
    // Run waits for two things: the policy shown (nobody agrees to one they
    // could not read yet) and this browser found to keep plugins off the
    // network.
    let policyShown = true;
    const gate = () => {
      if (this.asked !== ticket) return; // the dialog was opened again since
      const was = e.consentRun.disabled;
      e.consentRun.disabled = !policyShown || this.containment !== 'contained';
      if (was && !e.consentRun.disabled && e.consent.open && body.contains(document.activeElement)) e.consentRun.focus();
    };
    const check = el('p', '', 'consent-check');
    check.tabIndex = -1;
    const showCheck = () => {
      if (this.asked !== ticket) return;
      const c = this.containment;
      check.hidden = c === 'contained';
      check.toggleAttribute('aria-busy', c === 'pending');
      check.setAttribute('role', c === 'pending' ? 'status' : 'alert');
      check.textContent = c === 'pending' ? 'Checking that this browser keeps plugins off the network…' : c === 'contained' ? '' : UNCONTAINED[c];
      gate();
    };
    body.prepend(check);
    showCheck();
    if (this.containment === 'pending') this.contained().then(showCheck);
    if (pol.kind === 'none') {
      body.append(el('p', 'It comes with xroom and is covered by xroom’s own privacy policy.'));
    } else if (pol.kind === 'url') {
      const p = el('p', 'Its author’s policy (opens in a new tab; xroom does not fetch it): ');
      const a = /** @type {HTMLAnchorElement} */ (el('a', pol.href));
      a.href = pol.href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      a.referrerPolicy = 'no-referrer';
      p.append(a);
      body.append(p);
    } else {
      const pre = el('pre', 'Loading…', 'consent-policy');
      pre.tabIndex = 0;
      pre.setAttribute('aria-label', `Privacy policy of ${m.name}`);
      body.append(pre);
      pre.setAttribute('aria-busy', 'true');
      policyShown = false;
      gate();
      const shown = (/** @type {string} */ t) => {
        if (this.asked !== ticket) return;
        pre.textContent = t;
        pre.removeAttribute('aria-busy');
        policyShown = true;
        gate();
      };
      fetch(pol.href, { credentials: 'omit', cache: 'no-store' })
        .then((r) => (r.ok ? r.text() : Promise.reject(new Error(String(r.status)))))
        .then((t) => shown(t.slice(0, 20000)), () => shown('The policy could not be loaded.'));
    }
    e.consent.returnValue = '';
    if (e.dialog.open) e.dialog.close();
    e.consent.showModal();
    /** @type {HTMLElement} */
    const first = !e.consentRun.disabled ? e.consentRun : /** @type {HTMLElement | null} */ (body.querySelector('pre')) ?? check;
    first.focus();
  }

  /** Runs `id` (consent given) and shows it. @param {string} id */
  start(id) {
    if (this.containment !== 'contained') return; // Run was disabled; never around it
    const m = this.plugins.run(id);
    if (!m) return;
    const frame = pluginFrame(m);
    this.frames.set(id, frame);
    // The first load is the plugin's page. Any later one means the plugin
    // navigated its own frame: plugins.js stops it.
    let loads = 0;
    frame.addEventListener('load', () => {
      loads += 1;
      if (this.frames.get(id) !== frame) return;
      if (loads > 1) this.plugins.evict(id);
      else if (frame.contentWindow) this.plugins.connect(id, frame.contentWindow);
    });
    this.el.stage.append(frame);
    this.el.notice.hidden = true;
    this.shown = id;
    this.showPanel(true);
    this.render();
  }

  /** @param {boolean} open */
  showPanel(open) {
    this.el.panel.hidden = !open || this.plugins.running.size === 0;
    document.body.classList.toggle('plugins-open', !this.el.panel.hidden);
    this.render();
  }

  /** Someone started a plugin we do not run: offer to run it. @param {string} id @param {string} by */
  notify(id, by) {
    const m = this.plugins.available.get(id);
    if (!m) return;
    this.contained();
    const who = by === this.host.tab ? 'You' : this.host.name(by);
    const n = this.el.notice;
    n.replaceChildren(
      el('span', `${who} started ${m.name}.`),
      button(`Run ${m.name}…`, () => this.ask(id), 'primary', `Run ${m.name}…`),
      button('Decline', () => { this.plugins.decline(id); n.hidden = true; }, '', `Decline ${m.name}`),
    );
    n.hidden = false;
    this.host.announce(`${who} started the ${m.name} plugin. You can run it or decline.`);
  }

  render() {
    const p = this.plugins;
    // Chips: what is active in the call, and who started it.
    const chips = [];
    for (const [id, m] of p.available) {
      const runners = p.runners(id).length + (p.running.has(id) ? 1 : 0);
      if (!runners) continue;
      const by = p.startedBy(id);
      const who = by === this.host.tab ? 'you' : this.host.name(by);
      const chip = button(`${m.name} · started by ${who} · ${runners} running`, () => {
        if (p.running.has(id)) { this.shown = id; this.showPanel(true); } else this.ask(id);
      }, 'plugin-chip');
      chip.dataset.plugin = id;
      chips.push(chip);
    }
    this.el.chips.replaceChildren(...chips);
    this.el.chips.hidden = chips.length === 0;
    // Panel tabs and the frame shown.
    if (!p.running.has(this.shown)) this.shown = [...p.running.keys()][0] ?? '';
    const tabs = [];
    for (const [id, r] of p.running) {
      const t = button(r.manifest.name, () => { this.shown = id; this.render(); }, id === this.shown ? 'is-active' : '');
      t.setAttribute('aria-pressed', String(id === this.shown));
      tabs.push(t);
      const frame = this.frames.get(id);
      if (frame) frame.hidden = id !== this.shown;
    }
    if (this.shown) {
      const m = p.available.get(this.shown);
      tabs.push(button('Stop', () => p.stop(this.shown), 'danger-text', `Stop ${m?.name ?? 'plugin'}`));
    }
    this.el.tabs.replaceChildren(...tabs);
    if (p.running.size === 0 && !this.el.panel.hidden) this.showPanel(false);
    this.el.button.classList.toggle('is-active', p.running.size > 0);
    if (this.el.dialog.open) this.renderList();
  }

  renderList() {
    const p = this.plugins;
    const items = [];
    for (const [id, m] of p.available) {
      const li = el('li', '', 'plugin-item');
      li.dataset.plugin = id;
      li.append(el('h3', m.name), el('p', `${m.description || ''} — by ${m.author}`, 'muted'));
      const runners = p.runners(id).length;
      const by = p.startedBy(id);
      let state = 'Not active in this call.';
      if (p.running.has(id)) state = `Running here${runners ? ` and for ${runners} other${runners === 1 ? '' : 's'}` : ''}.`;
      else if (runners) state = `Started by ${by === this.host.tab ? 'you' : this.host.name(by)}; ${runners} running. Not running here${p.declined.has(id) ? ' (you declined)' : ''}.`;
      li.append(el('p', state, 'plugin-state'));
      li.append(p.running.has(id)
        ? button('Stop', () => p.stop(id), '', `Stop ${m.name}`)
        : button(runners ? 'Run…' : 'Start…', () => this.ask(id), 'primary', `${runners ? 'Run' : 'Start'} ${m.name}…`));
      items.push(li);
    }
    if (!items.length) items.push(el('li', 'This server offers no plugins.', 'muted'));
    this.el.list.replaceChildren(...items);
  }

  clear() {
    for (const d of [this.el.dialog, this.el.consent]) if (d.open) d.close();
    this.el.notice.hidden = true;
    this.showPanel(false);
  }
}
