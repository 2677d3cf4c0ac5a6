// Codecs other than VP8 through the frame encryption, Chromium to
// Chromium: H.264 (Firefox ESR here has no H.264 encoder; VP9 and AV1
// between Chromium and Firefox are in firefox.test.mjs). Both pages put
// the codec first in their receivers' preferences (an init script); the
// frames are sealed and opened under that codec's rule, read from each
// frame's metadata, and decoded both ways. And a sender whose video does
// not follow the rule (AV1 sealed whole): nothing of it is decoded, and
// the lock turns red although its audio opens.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinPage, launch, roomLink, startDaemon, tab, waitFor, waitMediaFlowing, PATIENCE } from './util.mjs';
import { preferCodec } from './firefox-util.mjs';

let browser;
let daemon;
before(async () => { [browser, daemon] = await Promise.all([launch(), startDaemon({})]); });
after(async () => {
  await browser?.close();
  await daemon?.stop();
});

const e2ee = (page) => page.evaluate(() => window.xroomTest.e2ee());

describe('H.264', () => {
  test('negotiated when both prefer it: NAL structure clear, the rest sealed and escaped; decoded both ways', async () => {
    const link = roomLink();
    const init = preferCodec('video/h264');
    const a = await joinPage(browser, daemon, link, { name: 'H264 A', init });
    const b = await joinPage(browser, daemon, link, { name: 'H264 B', init });
    try {
      await waitMediaFlowing([a, b], { timeout: PATIENCE });
      const [ta, tb] = [await tab(a.page), await tab(b.page)];
      for (const [p, other] of [[a, tb], [b, ta]]) {
        const c = await waitFor(async () => {
          const q = (await e2ee(p.page)).peers[other];
          return q?.lock === 'secure' && q.counters.decVideo > 10 && q.counters.encVideo > 10 && q.counters;
        }, { what: 'frames sealed and opened, lock secure' });
        assert.deepEqual([...c.codecs].sort(), ['audio/opus', 'video/h264']);
        assert.equal(c.authFailed, 0);
      }
    } finally {
      for (const p of [b, a]) await p.context.close();
    }
  });
});

describe('a sender whose video frames do not open', () => {
  test('the receiver decodes none of them, and its lock is red although the audio opens', async () => {
    const link = roomLink();
    const init = preferCodec('video/av1');
    // A's frame encryption seals AV1 frames whole, as if it had no AV1 rule.
    const a = await joinPage(browser, daemon, link, {
      name: 'Old rule', init,
      before: async (context) => {
        await context.route('**/js/e2ee/frame-crypto.js', async (route) => {
          const res = await route.fetch();
          const body = (await res.text()).replace("if (codec === 'video/av1') {", 'if (false) {');
          assert.ok(body.includes('if (false) {'), 'the patch applies');
          await route.fulfill({ response: res, body });
        });
      },
    });
    const b = await joinPage(browser, daemon, link, { name: 'Receiver', init });
    try {
      const ta = await tab(a.page);
      const q = await waitFor(async () => {
        const p = (await e2ee(b.page)).peers[ta];
        return p?.lock === 'alert' && p.counters.decAudio > 20 && p.counters.failed.video > 20 && p;
      }, { timeout: PATIENCE, what: 'B: audio opens, video refused, lock red' });
      assert.equal(q.counters.decVideo, 0);
      assert.equal(q.counters.failed.audio, 0);
      const s = await b.page.evaluate(() => window.xroomTest.stats());
      assert.equal(s.peers.find((p) => p.tab === ta).framesDecoded, 0, 'no frame of it decoded');
    } finally {
      for (const p of [b, a]) await p.context.close();
    }
  });
});
