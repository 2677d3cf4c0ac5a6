// @ts-check
// card-body.js: a user card as others see it (picture or initials, name,
// pronouns, status, links: http(s) as links, anything else as text; the
// key's fingerprint), for the editor and the tiles. Every string goes in as
// text, never as HTML.

import { linkOf } from '../features/cards/model.js';
import { h } from './dom.js';
import { initials } from './tiles.js';

/** @typedef {import('../features/cards/model.js').CardFields} CardFields */

/** An avatar: the picture, or initials. @param {string} avatar @param {string} name @param {string} cls */
export function avatarEl(avatar, name, cls) {
  if (avatar) return h('img', { class: cls, attrs: { src: avatar, alt: '' } });
  return h('span', { class: `${cls} card-initials`, text: initials(name), attrs: { 'aria-hidden': 'true' } });
}

/**
 * The card itself, as others see it: picture, name, pronouns, status,
 * links (http(s) as links, anything else as text), the key's fingerprint.
 * @param {CardFields} c
 * @param {string} fp
 */
export function cardBody(c, fp) {
  const head = h('div', { class: 'card-head' }, [avatarEl(c.avatar, c.name, 'card-avatar')]);
  const who = h('div', { class: 'card-who' });
  who.append(h('p', { class: 'card-name', text: c.name || 'No name shared' }));
  if (c.pronouns) who.append(h('p', { class: 'card-pronouns', text: c.pronouns }));
  head.append(who);
  const body = h('div', { class: 'card-body' }, [head]);
  if (c.status) body.append(h('p', { class: 'card-status', text: c.status }));
  if (c.links.length) {
    const ul = h('ul', { class: 'card-links', attrs: { 'aria-label': 'Links and contact lines' } });
    for (const line of c.links) {
      const l = linkOf(line);
      const li = h('li');
      if (l.href) {
        const a = h('a', { text: l.text, attrs: { href: l.href, target: '_blank', rel: 'noopener noreferrer', referrerpolicy: 'no-referrer' } });
        li.append(a);
      } else {
        li.append(l.text);
      }
      ul.append(li);
    }
    body.append(ul);
  }
  if (fp) body.append(h('p', { class: 'card-fp', text: `Key ${fp}`, attrs: { title: 'The short fingerprint of the key that signed this card' } }));
  return body;
}
