// The slow, clock-bound rows of protocol.md, run concurrently: the 10 s join
// deadline (1008, pings do not extend it), liveness (WebSocket pings and the
// idle close), and the rate-limit close after drops in 3 consecutive seconds.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, joinPeer, roomId, sleep, startDaemon } from './harness.mjs';

describe('clock-bound behaviour', { concurrency: true }, () => {
  describe('join deadline', { concurrency: true }, () => {
    test('a waiting connection is closed 1008 about 10 s after it opened', async () => {
      const d = await startDaemon({});
      try {
        const c = await connect(d, roomId());
        const close = await c.waitClose(14000);
        const after = (close.at - c.openedAt) / 1000;
        assert.equal(close.code, 1008);
        assert.ok(after >= 9 && after <= 12.5, `closed after ${after} s`);
      } finally { await d.stop(); }
    });

    test('application pings do not extend the deadline (and are answered meanwhile)', async () => {
      const d = await startDaemon({});
      try {
        const c = await connect(d, roomId());
        let pongs = 0;
        const timer = setInterval(() => { if (c.isOpen) c.send({ type: 'ping', id: pongs }); }, 1000);
        try {
          const close = await c.waitClose(14000);
          const after = (close.at - c.openedAt) / 1000;
          pongs = c.queue.filter((e) => e.msg.type === 'pong').length;
          assert.equal(close.code, 1008);
          assert.ok(after >= 9 && after <= 12.5, `closed after ${after} s`);
          assert.ok(pongs >= 7, `pings answered while waiting (${pongs})`);
        } finally { clearInterval(timer); }
      } finally { await d.stop(); }
    });

    test('a connection that joins within the deadline stays open past it', async () => {
      const d = await startDaemon({});
      try {
        const c = await connect(d, roomId());
        await sleep(6000);
        await c.join();
        await sleep(6500);
        assert.ok(c.isOpen, 'still open after 12.5 s');
        assert.deepEqual(await c.sync(), []);
        c.close();
      } finally { await d.stop(); }
    });
  });

  describe('liveness', { concurrency: true }, () => {
    const IDLE = 2;

    test('the server pings; a client that answers stays open while silent', async () => {
      const d = await startDaemon({ limits: { idle_timeout_s: IDLE } });
      try {
        const c = await joinPeer(d, roomId());
        await sleep((2 * IDLE + 3) * 1000);
        assert.ok(c.pings >= 1, `server sent ${c.pings} WebSocket pings`);
        assert.ok(c.isOpen, 'an answering client is kept');
        assert.deepEqual(await c.sync(), []);
        c.close();
      } finally { await d.stop(); }
    });

    test('a client that never answers pings is closed after about idle_timeout_s; peers see peer-left', async () => {
      const d = await startDaemon({ limits: { idle_timeout_s: IDLE } });
      try {
        const room = roomId();
        const a = await joinPeer(d, room);
        const mute = await joinPeer(d, room, undefined, { autoPong: false });
        const waiting = await connect(d, roomId(), { autoPong: false });
        await a.expect('peer-joined');
        const close = await mute.waitClose((2 * IDLE + 3) * 1000);
        const after = (close.at - mute.openedAt) / 1000;
        assert.ok(after <= 2 * IDLE + 2, `closed after ${after} s`);
        assert.ok(mute.pings >= 1, 'it was pinged');
        assert.deepEqual(await a.next(3000), { type: 'peer-left', id: mute.id });
        const wc = await waiting.waitClose(3000);
        assert.ok((wc.at - waiting.openedAt) / 1000 <= 2 * IDLE + 2, 'waiting sockets are pinged too');
        assert.ok(a.isOpen);
        a.close();
      } finally { await d.stop(); }
    });
  });

  describe('rate limit', { concurrency: true }, () => {
    const limits = { messages_per_second: 5, message_burst: 5 };

    test('drops in 3 consecutive seconds close the connection 1008, with at most one error a second', async () => {
      const d = await startDaemon({ limits });
      try {
        const c = await joinPeer(d, roomId());
        const start = Date.now();
        const timer = setInterval(() => {
          if (!c.isOpen) return;
          for (let i = 0; i < 5; i++) c.send({ type: 'ping', id: i });
        }, 100);
        let close;
        try {
          close = await c.waitClose(8000);
        } finally { clearInterval(timer); }
        const secs = (close.at - start) / 1000;
        assert.equal(close.code, 1008);
        assert.ok(secs >= 1.8 && secs <= 5, `closed after ${secs} s`);
        const errors = c.queue.map((e) => e.msg).filter((m) => m.type === 'error');
        assert.ok(errors.length >= 1, 'rate-limited errors were sent');
        assert.ok(errors.every((m) => m.code === 'rate-limited'), JSON.stringify(errors));
        assert.ok(errors.length <= Math.ceil(secs) + 1, `${errors.length} errors in ${secs} s`);
      } finally { await d.stop(); }
    });

    test('drops within less than a second do not close the connection', async () => {
      const d = await startDaemon({ limits });
      try {
        const c = await joinPeer(d, roomId());
        await sleep(1200);
        const timer = setInterval(() => { for (let i = 0; i < 5; i++) c.send({ type: 'ping', id: i }); }, 100);
        await sleep(750);
        clearInterval(timer);
        await sleep(3500);
        assert.ok(c.isOpen, 'still open');
        c.queue.length = 0;
        assert.deepEqual(await c.sync(), []);
        c.close();
      } finally { await d.stop(); }
    });
  });
});
