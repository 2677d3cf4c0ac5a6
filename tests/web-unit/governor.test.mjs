import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMERA, SCREEN, capsFor } from '../../web/js/call/governor.js';

test('the camera table, as documented in docs/client.md', () => {
  const rows = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => {
    const c = capsFor(n, 'camera', { width: 1280, height: 720 });
    return [n, c.maxBitrate / 1000, Math.round(720 / c.scaleResolutionDownBy), c.maxFramerate];
  });
  assert.deepEqual(rows, [
    [1, 1500, 720, 30],
    [2, 1000, 540, 30],
    [3, 700, 480, 30],
    [4, 500, 360, 30],
    [5, 400, 360, 24],
    [6, 300, 270, 24],
    [7, 300, 270, 24],
    [8, 200, 180, 15],
    [20, 200, 180, 15],
  ]);
});

test('the screen table keeps resolution and gives up frame rate', () => {
  const rows = [1, 2, 3, 4, 5, 7].map((n) => {
    const c = capsFor(n, 'screen', { width: 1920, height: 1080 });
    return [n, c.maxBitrate / 1000, Math.round(1080 / c.scaleResolutionDownBy), c.maxFramerate, c.degradationPreference];
  });
  assert.deepEqual(rows, [
    [1, 2000, 1080, 15, 'maintain-resolution'],
    [2, 1200, 1080, 10, 'maintain-resolution'],
    [3, 800, 720, 8, 'maintain-resolution'],
    [4, 500, 720, 5, 'maintain-resolution'],
    [5, 500, 720, 5, 'maintain-resolution'],
    [7, 300, 540, 5, 'maintain-resolution'],
  ]);
});

test('one sender\'s total upload stays near 2 Mbit/s however many peers', () => {
  for (let n = 2; n <= 8; n++) {
    const total = n * capsFor(n, 'camera').maxBitrate;
    assert.ok(total >= 1_500_000 && total <= 2_400_000, `${n} peers: ${total}`);
  }
});

test('caps never grow with more peers', () => {
  for (const [table, source] of [[CAMERA, 'camera'], [SCREEN, 'screen']]) {
    let prev = capsFor(1, source, { width: 3840, height: 2160 });
    for (let n = 2; n <= 64; n++) {
      const c = capsFor(n, source, { width: 3840, height: 2160 });
      assert.ok(c.maxBitrate <= prev.maxBitrate && c.maxFramerate <= prev.maxFramerate &&
        c.scaleResolutionDownBy >= prev.scaleResolutionDownBy, `${source} ${n}`);
      prev = c;
    }
    assert.equal(table[table.length - 1].upTo, Infinity);
  }
});

test('the short side counts (portrait phones), small pictures are never scaled up', () => {
  assert.equal(capsFor(1, 'camera', { width: 720, height: 1280 }).scaleResolutionDownBy, 1);
  assert.equal(capsFor(4, 'camera', { width: 720, height: 1280 }).scaleResolutionDownBy, 2);
  assert.equal(capsFor(4, 'camera', { width: 320, height: 240 }).scaleResolutionDownBy, 1);
  assert.equal(capsFor(4, 'camera', {}).scaleResolutionDownBy, 1, 'unknown size: no scaling');
  assert.equal(capsFor(0, 'camera').maxBitrate, 1_500_000, 'no peers counts as one');
});
