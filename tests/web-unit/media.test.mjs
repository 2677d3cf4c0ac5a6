import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpeakingDetector, accessOf } from '../../web/js/call/media.js';
import { initials, tileGeometry } from '../../web/js/views/tiles.js';

test('getUserMedia failures map to what the user is told', () => {
  const e = (name) => Object.assign(new Error(name), { name });
  assert.equal(accessOf(e('NotAllowedError')), 'denied');
  assert.equal(accessOf(e('SecurityError')), 'denied');
  assert.equal(accessOf(e('NotFoundError')), 'none');
  assert.equal(accessOf(e('OverconstrainedError')), 'none');
  assert.equal(accessOf(e('NotReadableError')), 'busy');
  assert.equal(accessOf(e('TypeError')), 'error');
  assert.equal(accessOf(null), 'error');
});

test('speaking: on above the threshold, held 600 ms', () => {
  const d = new SpeakingDetector();
  assert.equal(d.update(0.01, 0), false);
  assert.equal(d.update(0.2, 100), true);
  assert.equal(d.update(0.0, 500), true, 'held between syllables');
  assert.equal(d.update(0.0, 700), true);
  assert.equal(d.update(0.0, 701), false);
});

test('tile geometry: the largest 16:9 tiles that fit', () => {
  assert.deepEqual(tileGeometry(1, 1600, 900, 0), { cols: 1, width: 1600 });
  assert.equal(tileGeometry(2, 1600, 900, 0).cols, 2, 'wide screen: side by side');
  assert.equal(tileGeometry(2, 390, 700, 8).cols, 1, 'phone: stacked');
  assert.equal(tileGeometry(4, 1600, 900, 0).cols, 2);
  assert.equal(tileGeometry(8, 1600, 900, 10).cols, 3);
  assert.equal(tileGeometry(8, 390, 700, 8).cols, 2);
  for (let n = 1; n <= 8; n++) {
    for (const [w, h] of [[1280, 600], [390, 650], [800, 800]]) {
      const { cols, width } = tileGeometry(n, w, h, 8);
      const rows = Math.ceil(n / cols);
      assert.ok(cols * width + (cols - 1) * 8 <= w + 0.01, `${n} tiles fit the width`);
      assert.ok(rows * width * 9 / 16 + (rows - 1) * 8 <= h + 0.01, `${n} tiles fit the height`);
    }
  }
});

test('avatar initials', () => {
  assert.equal(initials('Ada Lovelace'), 'AL');
  assert.equal(initials('  grace  '), 'G');
  assert.equal(initials('Jean-Luc de la Picard'), 'JP');
  assert.equal(initials('Émile Zola'), 'ÉZ');
  assert.equal(initials(''), '?');
});

test('spotlight: one large tile above a strip of the others, all 16:9 and inside the grid', async () => {
  const { spotlightGeometry } = await import('../../web/js/views/tiles.js');
  for (const [others, w, h] of [[1, 1240, 660], [3, 1240, 660], [7, 1240, 660], [1, 370, 600], [5, 370, 600]]) {
    const gap = 10;
    const { big, small } = spotlightGeometry(others, w, h, gap);
    assert.ok(big > small, `${others} others in ${w}×${h}: the enlarged one is larger`);
    assert.ok(big <= w + 0.5 && big * 9 / 16 + gap + small * 9 / 16 <= h + 0.5, 'fits the height');
    assert.ok(others * small + (others - 1) * gap <= w + 0.5, 'the strip fits the width');
    assert.ok(small * 9 / 16 <= 140 + 0.5, 'the strip is at most 140 px high');
  }
});
