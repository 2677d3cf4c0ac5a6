// @ts-check
// text.js: the rules for text one person types and others see (display
// names, file names, the lines of a card) and for what of it may become a
// link. One copy of each rule, used by every feature. Pure: no DOM.

/** Control characters (C0, DEL, C1) and line and paragraph separators: shown as a space. */
// eslint-disable-next-line no-control-regex
const BREAKS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/**
 * Invisible format characters that can make text read as something else:
 * the bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069; U+202E shows "harmless\u202Eexe.txt" as
 * "harmlesstxt.exe"), the zero-width space and the word joiners
 * (U+200B, U+2060-U+2064), the byte order mark (U+FEFF) and the soft
 * hyphen (U+00AD): removed. The zero-width joiner and non-joiner
 * (U+200C, U+200D) stay: some scripts and emoji sequences need them.
 */
const HIDDEN = /[\u00ad\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * One line of text as others will see it: hidden format characters
 * removed, control characters and line breaks made spaces, trimmed, cut to
 * `max` characters (code points, so no surrogate pair is split), trimmed
 * again. Anything but a string is ''.
 * @param {unknown} v
 * @param {number} max
 * @returns {string}
 */
export function cleanLine(v, max) {
  if (typeof v !== 'string') return '';
  return [...v.replace(HIDDEN, '').replace(BREAKS, ' ').trim()].slice(0, max).join('').trim();
}

/**
 * Whether `v` is already a clean line of at most `max` characters: what a
 * received value must be, since nothing received is repaired.
 * @param {unknown} v
 * @param {number} max
 * @returns {v is string}
 */
export function isCleanLine(v, max) {
  return typeof v === 'string' && cleanLine(v, max) === v;
}

/**
 * The address `text` links to, or '' when it is not an http(s) URL with a
 * host. Anything else that looks like a link (javascript:, data:, mailto:,
 * a phone number) stays text.
 * @param {string} text
 * @returns {string}
 */
export function httpHref(text) {
  if (!/^https?:\/\//i.test(text)) return '';
  try {
    const u = new URL(text);
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.hostname) return u.href;
  } catch { /* not a link */ }
  return '';
}

/**
 * Letters of other scripts, and digits and signs, that look like a Latin
 * letter in common fonts (a subset of Unicode's confusables.txt: the
 * Cyrillic and Greek look-alikes of Latin letters, and the usual digit
 * and sign swaps), as the Latin letter.
 */
const LOOKALIKE = new Map(Object.entries({
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', һ: 'h', і: 'i', ї: 'i', ј: 'j', к: 'k', ӏ: 'l', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c',
  т: 't', у: 'y', х: 'x', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', ь: 'b', ү: 'y', ɡ: 'g',
  // Greek
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', γ: 'y', ω: 'w',
  // digits and signs
  0: 'o', 1: 'l', 3: 'e', 5: 's', '|': 'l', '!': 'l',
}));

/**
 * The skeleton of a display name, for telling look-alikes apart from new
 * names: NFKC, without format characters (bidi controls, zero-width
 * ones), without combining marks, capital I as l (as in many fonts), lower
 * case, letters of other scripts that look Latin as the Latin letter, "rn"
 * as "m" and "vv" as "w", blanks collapsed. Two names with the same
 * skeleton look the same, or nearly, on screen.
 * @param {string} name
 */
export function nameSkeleton(name) {
  const plain = name.normalize('NFKC').replace(/\p{Cf}/gu, '').normalize('NFD').replace(/\p{Mn}/gu, '')
    .replace(/I/g, 'l').toLowerCase();
  let out = '';
  for (const ch of plain) out += LOOKALIKE.get(ch) ?? ch;
  return out.replace(/rn/g, 'm').replace(/vv/g, 'w').replace(/\s+/g, ' ').trim();
}

/**
 * What to call someone who gave no name: "Guest" and three letters of
 * their tab id, so two unnamed people are told apart ("Guest K3P").
 * @param {string} tab
 */
export function guestName(tab) {
  const tag = tab.replace(/[^A-Za-z0-9]/g, '').slice(0, 3).toUpperCase();
  return tag ? `Guest ${tag}` : 'Guest';
}
