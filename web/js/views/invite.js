// @ts-check
// invite.js: the room's link where people look for it: on the pre-join
// screen, and over the call while nobody else is in it. Each place shows
// the link (selectable), "Copy link", and "Share…" where the browser has
// a share sheet (phones). The link is the page's own address without its
// query string: the room id and, in the fragment, the secret; the page
// never sends it anywhere (a share sheet hands it to the app the person
// picks).

/**
 * The link to hand out: origin, path and fragment of `href`.
 * @param {string} href
 */
export function inviteLink(href) {
  const u = new URL(href);
  return `${u.origin}${u.pathname}${u.hash}`;
}

export class InviteView {
  /**
   * @param {HTMLElement[]} roots  each gets a copy of the row in `row`: .invite-link (input), .invite-copy and .invite-share (buttons)
   * @param {HTMLTemplateElement} row
   * @param {{copy: (text: string) => Promise<boolean>, toast: (text: string) => void}} ui
   */
  constructor(roots, row, ui) {
    this.roots = roots;
    this.ui = ui;
    this.link = '';
    const canShare = typeof navigator.share === 'function';
    for (const r of roots) {
      r.append(row.content.cloneNode(true));
      const input = /** @type {HTMLInputElement} */ (r.querySelector('.invite-link'));
      input.addEventListener('focus', () => input.select());
      r.querySelector('.invite-copy')?.addEventListener('click', () => { this.copyLink(); });
      const share = /** @type {HTMLButtonElement | null} */ (r.querySelector('.invite-share'));
      if (share) {
        share.hidden = !canShare;
        share.addEventListener('click', () => { this.share(); });
      }
    }
  }

  /** @param {string} href  the page's address */
  setLink(href) {
    this.link = inviteLink(href);
    for (const r of this.roots) /** @type {HTMLInputElement} */ (r.querySelector('.invite-link')).value = this.link;
  }

  async copyLink() {
    this.ui.toast(await this.ui.copy(this.link) ? 'Link copied: anyone with it can join' : 'Select the link and copy it');
  }

  async share() {
    try {
      await navigator.share({ title: 'Join my xroom call', url: this.link });
    } catch {
      /* dismissed */
    }
  }
}
