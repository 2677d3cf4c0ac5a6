// The text rules of web/js/util/text.js, and that every feature that shows
// someone's text uses the same one: display names (transport/wire.js),
// file names (features/files/), card lines (features/cards/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanLine, httpHref, isCleanLine } from '../../web/js/util/text.js';
import { cleanName } from '../../web/js/transport/wire.js';
import { cleanFileName } from '../../web/js/features/files/wire.js';
import { cleanFields, parseCard } from '../../web/js/features/cards/model.js';

const HIDDEN = ['\u00ad', '\u061c', '\u200b', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e',
  '\u2060', '\u2064', '\u2066', '\u2067', '\u2068', '\u2069', '\ufeff'];

test('one line: controls become blanks, bidi and other hidden format characters go, trimmed, cut by code points', () => {
  assert.equal(cleanLine('  Ada\u0000 Lovelace\n', 64), 'Ada  Lovelace');
  assert.equal(cleanLine('a\u2028b\u2029c\u0085d\u007fe', 64), 'a b c d e');
  for (const h of HIDDEN) assert.equal(cleanLine(`ev${h}il`, 64), 'evil', `U+${h.codePointAt(0).toString(16)}`);
  assert.equal(cleanLine('harmless\u202Eexe.txt', 64), 'harmlessexe.txt');
  // Joiners that scripts and emoji sequences need stay.
  assert.equal(cleanLine('👩\u200d💻 \u0645\u200c\u06cc', 64), '👩\u200d💻 \u0645\u200c\u06cc');
  assert.equal([...cleanLine('😀'.repeat(100), 10)].length, 10);
  assert.equal(cleanLine('abc   def', 4), 'abc', 'trimmed after the cut too');
  assert.equal(cleanLine(42, 10), '');
  assert.equal(cleanLine(null, 10), '');
});

test('a received line must already be clean: nothing is repaired', () => {
  assert.ok(isCleanLine('Ada Lovelace', 64));
  assert.ok(isCleanLine('', 64));
  for (const bad of [' Ada', 'Ada ', 'A\nda', 'A\u202eda', 'x'.repeat(65), 5]) assert.ok(!isCleanLine(bad, 64), JSON.stringify(bad));
});

test('links: http(s) with a host only', () => {
  assert.equal(httpHref('https://a.test/x?y#z'), 'https://a.test/x?y#z');
  assert.equal(httpHref('HTTP://A.test'), 'http://a.test/');
  for (const no of ['javascript:alert(1)', 'data:text/html,x', 'mailto:a@b.test', 'tel:+1 555', 'http:/a.test', 'https://', 'ftp://a.test', ' https://a.test']) {
    assert.equal(httpHref(no), '', no);
  }
});

test('the same rule everywhere: display names, file names, card fields, received cards', () => {
  const evil = 'Ada\u202e\u0007';
  assert.equal(cleanName(evil), 'Ada');
  assert.equal(cleanFileName(`report\u202efdp.exe`), 'reportfdp.exe');
  assert.equal(cleanFields({ name: evil, pronouns: 'she\u200e/her', status: 'a\nb', links: ['x\u2066y'] }).name, 'Ada');
  const f = cleanFields({ name: evil, pronouns: 'she\u200e/her', status: 'a\nb', links: ['x\u2066y'] });
  assert.deepEqual([f.pronouns, f.status, f.links], ['she/her', 'a b', ['xy']]);
  const card = { v: 1, pub: 'A'.repeat(43), name: 'Ada', avatar: '', pronouns: '', status: '', links: [] };
  assert.ok(parseCard(card));
  assert.equal(parseCard({ ...card, name: 'Ad\u202ea' }), null, 'a received name with a bidi control is refused');
  assert.equal(parseCard({ ...card, links: ['https://a.test/\u200b'] }), null);
});
