// @ts-check
// plugins-view.js: the DOM of plugins. The Plugins dialog (what exists,
// what is active in the call and who started it), the consent dialog
// (manifest, permissions in plain words, privacy policy; nothing runs
// before "Run it"), the notice when someone else starts one, the chips in
// the call bar, and the panel that holds the running plugins' frames.

import { PERMISSION_TEXT, policyOf } from './plugins.js';
import { byId as $ } from './dom.js';

/** @typedef {import('./plugins.js').Manifest} Manifest */

/** @param {string} tag @param {string} [text] @param {string} [cls] */
function el(tag, text = '', cls = '') {
  const e = document.createElement(tag);
  if (text) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** @param {string} text @param {() => void} fn @param {string} [cls] @param {string} [aria] */
function button(text, fn, cls = '', aria = '') {
  const b = /** @type {HTMLButtonElement} */ (el('button', text, cls));
  b.type = 'button';
  if (aria) b.setAttribute('aria-label', aria);
  b.addEventListener('click', fn);
  return b;
}

export class PluginsView {
  /**
   * @param {import('./plugins.js').Plugins} plugins
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
    /** @type {string} the plugin the consent dialog asks about */
    this.asking = '';
    const e = this.el;
    e.button.addEventListener('click', () => {
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
    plugins.on('evicted', ({ id }) => {
      const name = plugins.available.get(id)?.name ?? id;
      const n = this.el.notice;
      n.replaceChildren(el('span', `${name} tried to leave its page and was stopped.`),
        button('OK', () => { n.hidden = true; }));
      n.hidden = false;
      host.announce(`${name} tried to leave its page and was stopped.`);
    });
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
      fetch(pol.href, { credentials: 'omit', cache: 'no-store' })
        .then((r) => (r.ok ? r.text() : Promise.reject(new Error(String(r.status)))))
        .then((t) => { pre.textContent = t.slice(0, 20000); })
        .catch(() => { pre.textContent = 'The policy could not be loaded.'; });
    }
    e.consent.returnValue = '';
    if (e.dialog.open) e.dialog.close();
    e.consent.showModal();
    e.consentRun.focus();
  }

  /** Runs `id` (consent given) and shows it. @param {string} id */
  start(id) {
    const frame = this.plugins.run(id);
    if (!frame) return;
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
    const who = by === this.host.tab ? 'You' : this.host.name(by);
    const n = this.el.notice;
    n.replaceChildren(
      el('span', `${who} started ${m.name}.`),
      button('Run it…', () => this.ask(id), 'primary', `Run ${m.name}…`),
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
      if (r.frame) r.frame.hidden = id !== this.shown;
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
