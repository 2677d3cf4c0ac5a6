// @ts-check
// more-menu.js: the call bar stays one row. When the bar's own width (the
// window, less the chat or a plugin panel) cannot hold every control, the
// secondary ones (share screen, hide my address, copy link, your card,
// send a file, plugins, reactions) move into a "More" panel above the bar,
// each with its name written out; microphone, camera, chat and leave stay.
// The same buttons move (their handlers and states go with them), back
// into the bar when it is wide enough again. Escape or a click elsewhere
// closes the panel.

export class MoreMenu {
  /**
   * @param {HTMLElement} bar  the call controls
   * @param {HTMLElement} panel  where the secondary controls go
   * @param {HTMLButtonElement} toggle  "More"
   */
  constructor(bar, panel, toggle) {
    this.bar = bar;
    this.panel = panel;
    this.toggle = toggle;
    /** @type {HTMLElement[]} the secondary controls, in the bar's order */
    this.items = [...bar.querySelectorAll(':scope > .more-item')].map((e) => /** @type {HTMLElement} */ (e));
    this.compact = false;
    toggle.addEventListener('click', () => { this.setOpen(toggle.getAttribute('aria-expanded') !== 'true'); });
    panel.addEventListener('click', (ev) => {
      // A control used from the panel closes it (reactions open their own menu above).
      const b = /** @type {HTMLElement} */ (ev.target).closest('button');
      if (b && b.id !== 'btn-react') this.setOpen(false);
    });
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !this.panel.hidden) {
        this.setOpen(false);
        this.toggle.focus();
      }
    });
    document.addEventListener('pointerdown', (ev) => {
      const t = /** @type {Node} */ (ev.target);
      if (!this.panel.hidden && !this.panel.contains(t) && !this.toggle.contains(t)) this.setOpen(false);
    });
    new ResizeObserver(() => this.update()).observe(bar);
  }

  /** The width the bar needs to hold every control in one row, from its buttons' sizes now. */
  needed() {
    const mic = /** @type {HTMLElement | null} */ (this.bar.querySelector(':scope > button.round:not(.danger)'));
    const leave = /** @type {HTMLElement | null} */ (this.bar.querySelector(':scope > button.round.danger'));
    if (!mic || !leave || !mic.offsetWidth) return 0;
    const s = getComputedStyle(this.bar);
    const gap = parseFloat(s.columnGap) || 0;
    const n = this.bar.querySelectorAll(':scope > button.round:not(.more-toggle)').length + (this.compact ? this.items.length : 0);
    return (n - 1) * mic.offsetWidth + leave.offsetWidth + (n - 1) * gap + parseFloat(s.paddingLeft) + parseFloat(s.paddingRight);
  }

  update() {
    const need = this.needed();
    if (!need) return; // not shown yet
    const compact = this.bar.clientWidth < need;
    if (compact === this.compact) return;
    this.compact = compact;
    if (compact) {
      this.panel.append(...this.items);
    } else {
      for (const it of this.items) this.bar.insertBefore(it, this.toggle);
      this.setOpen(false);
    }
    this.toggle.hidden = !compact;
    this.bar.dataset.compact = compact ? 'true' : 'false';
  }

  /** @param {boolean} open */
  setOpen(open) {
    this.panel.hidden = !open;
    this.toggle.setAttribute('aria-expanded', String(open));
  }
}
