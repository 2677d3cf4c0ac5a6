// Limits and room access from protocol.md: too-large (1009, exact size
// accepted, fragments counted together), rate-limited bursts, room-full,
// forbidden (verifier semantics), server-busy (connections, rooms) and the
// outgoing-queue cull (max_queued_bytes).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  connect, joinPeer, roomId, signalText, sleep, startDaemon, tryJoin, waitFor,
} from './harness.mjs';

/** A signal to `to` whose whole text is exactly `size` bytes, padded with `unit`. */
function signalOfSize(to, size, unit = 'x') {
  const overhead = Buffer.byteLength(signalText(to, '""'));
  const unitBytes = Buffer.byteLength(unit);
  const n = Math.floor((size - overhead) / unitBytes);
  let pad = unit.repeat(n);
  pad += 'y'.repeat(size - overhead - Buffer.byteLength(pad));
  const text = signalText(to, JSON.stringify(pad));
  assert.equal(Buffer.byteLength(text), size);
  return { text, pad };
}

describe('too-large', () => {
  const LIMIT = 1024;
  let d;
  before(async () => { d = await startDaemon({ limits: { max_message_bytes: LIMIT } }); });
  after(async () => { await d?.stop(); });

  async function pair() {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    await a.expect('peer-joined');
    return [a, b];
  }

  test('a message of exactly max_message_bytes is relayed (the relayed copy may be longer)', async () => {
    const [a, b] = await pair();
    for (const unit of ['x', '\u00e9', '\u20ac', '\u{1F600}']) {
      const { text, pad } = signalOfSize(b.id, LIMIT, unit);
      a.sendText(text);
      const e = await b.nextEntry();
      assert.deepEqual(e.msg, { type: 'signal', from: a.id, data: pad });
      assert.ok(e.raw.length > LIMIT, 'the envelope is not capped by the limit');
    }
    assert.deepEqual(await a.sync(), []);
    a.close(); b.close();
  });

  test('one byte over is too-large, closed 1009, and peers see peer-left', async () => {
    const [a, b] = await pair();
    a.sendText(signalOfSize(b.id, LIMIT + 1, '\u00e9').text);
    await a.expectError('too-large');
    assert.equal((await a.waitClose()).code, 1009);
    assert.deepEqual(await b.next(), { type: 'peer-left', id: a.id });
    b.close();
  });

  test('too-large applies before join too', async () => {
    const c = await connect(d, roomId());
    c.send({ type: 'ping', id: 'z'.repeat(LIMIT * 3) });
    await c.expectError('too-large');
    assert.equal((await c.waitClose()).code, 1009);
  });

  test('fragments are counted together: exactly the limit is accepted', async () => {
    const [a, b] = await pair();
    const { text, pad } = signalOfSize(b.id, LIMIT);
    const buf = Buffer.from(text);
    a.sendText(buf.subarray(0, 300), { fin: false });
    a.sendText(buf.subarray(300, 700), { fin: false });
    a.sendText(buf.subarray(700), { fin: true });
    assert.deepEqual(await b.next(), { type: 'signal', from: a.id, data: pad });
    a.close(); b.close();
  });

  test('fragments that together exceed the limit are too-large, closed 1009', async () => {
    const [a, b] = await pair();
    const { text } = signalOfSize(b.id, LIMIT + 200);
    const buf = Buffer.from(text);
    // every fragment alone is under the limit
    a.sendText(buf.subarray(0, 500), { fin: false });
    a.sendText(buf.subarray(500, 1000), { fin: false });
    a.sendText(buf.subarray(1000), { fin: true });
    await a.expectError('too-large');
    assert.equal((await a.waitClose()).code, 1009);
    assert.deepEqual(await b.next(), { type: 'peer-left', id: a.id });
    b.close();
  });

  test('an unfinished fragmented message over the limit is refused without waiting for its end', async () => {
    const [a, b] = await pair();
    for (let i = 0; i < 4; i++) a.sendText(Buffer.from('['.repeat(400)), { fin: false });
    await a.expectError('too-large');
    assert.equal((await a.waitClose()).code, 1009);
    b.close();
  });
});

describe('rate-limited', () => {
  let d;
  before(async () => { d = await startDaemon({ limits: { messages_per_second: 5, message_burst: 5 } }); });
  after(async () => { await d?.stop(); });

  test('a burst beyond message_burst is dropped with one rate-limited error; the connection stays open', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    await a.expect('peer-joined');
    await sleep(1300); // let both buckets refill
    for (let i = 0; i < 15; i++) a.send({ type: 'signal', to: b.id, data: i });
    await sleep(500);
    const toA = a.queue.splice(0).map((e) => e.msg);
    const toB = b.queue.splice(0).map((e) => e.msg);
    assert.deepEqual(toA.map((m) => [m.type, m.code]), [['error', 'rate-limited']]);
    assert.equal(typeof toA[0].message, 'string');
    assert.ok(toB.length >= 5 && toB.length <= 7, `${toB.length} of 15 relayed with a burst of 5`);
    assert.deepEqual(toB.map((m) => m.data), toB.map((_, i) => i), 'the first ones get through, in order');
    await sleep(1200);
    assert.ok(a.isOpen, 'still open');
    a.send({ type: 'ping', id: 'after' });
    assert.deepEqual(await a.next(), { type: 'pong', id: 'after' });
    a.close(); b.close();
  });

  test('every message type costs a token (pings too)', async () => {
    const c = await connect(d, roomId());
    await sleep(1300);
    for (let i = 0; i < 12; i++) c.send({ type: 'ping', id: i });
    await sleep(500);
    const got = c.queue.splice(0).map((e) => e.msg);
    const pongs = got.filter((m) => m.type === 'pong').map((m) => m.id);
    const errors = got.filter((m) => m.type === 'error');
    assert.ok(pongs.length >= 5 && pongs.length <= 7, `pongs: ${pongs}`);
    assert.deepEqual(pongs, pongs.map((_, i) => i));
    assert.deepEqual(errors.map((m) => m.code), ['rate-limited']);
    c.close();
  });
});

describe('room-full and forbidden', () => {
  let d;
  before(async () => { d = await startDaemon({ rooms: { max_peers: 2 } }); });
  after(async () => { await d?.stop(); });

  async function refused(room, auth, code) {
    const r = await tryJoin(d, room, auth);
    assert.ok(!r.welcome, `join with ${JSON.stringify(auth)} should be refused with ${code}`);
    assert.ok(!r.refused, `refused over HTTP: ${JSON.stringify(r.refused)}`);
    assert.equal(r.error?.type, 'error');
    assert.equal(r.error.code, code, JSON.stringify(r.error));
    assert.equal(r.close?.code, 1008);
  }

  test('room-full: a join beyond max_peers is closed 1008 and nobody is told', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    await a.expect('peer-joined');
    await refused(room, undefined, 'room-full');
    await a.expectSilence(100);
    await b.expectSilence(0);
    // a leaves: there is room again
    a.send({ type: 'leave' });
    await b.expect('peer-left');
    const c = await joinPeer(d, room);
    assert.deepEqual(c.welcome.peers, [b.id]);
    b.close(); c.close();
  });

  test('the first join sets the verifier; a mismatch is forbidden', async () => {
    const room = roomId();
    const a = await joinPeer(d, room, 'secret-1');
    await refused(room, 'secret-2', 'forbidden');
    await refused(room, undefined, 'forbidden');
    await refused(room, '', 'forbidden');
    await refused(room, 'secret-1x', 'forbidden');
    await refused(room, 'secret-', 'forbidden');
    await a.expectSilence(50);
    const b = await joinPeer(d, room, 'secret-1');
    assert.deepEqual(b.welcome.peers, [a.id]);
    a.close(); b.close();
  });

  test('a room made without auth refuses a join that carries one', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    await refused(room, 'anything', 'forbidden');
    const b = await joinPeer(d, room, '');
    assert.deepEqual(b.welcome.peers, [a.id]);
    a.close(); b.close();
  });

  test('forbidden is checked before capacity', async () => {
    const room = roomId();
    const a = await joinPeer(d, room, 'k');
    const b = await joinPeer(d, room, 'k');
    await refused(room, 'wrong', 'forbidden');
    await refused(room, undefined, 'forbidden');
    await refused(room, 'k', 'room-full');
    const open = roomId();
    const c = await joinPeer(d, open);
    const e = await joinPeer(d, open);
    await refused(open, 'some-auth', 'forbidden');
    await refused(open, undefined, 'room-full');
    for (const x of [a, b, c, e]) x.close();
  });

  test('the verifier lasts while the room has peers, and is forgotten once it is empty', async () => {
    const room = roomId();
    const a = await joinPeer(d, room, 'first');
    const b = await joinPeer(d, room, 'first');
    a.send({ type: 'leave' });
    await b.expect('peer-left');
    await refused(room, 'second', 'forbidden');
    b.send({ type: 'leave' });
    await b.waitClose();
    // empty: the room and its verifier are gone
    const c = await joinPeer(d, room, 'second');
    assert.deepEqual(c.welcome.peers, []);
    await refused(room, 'first', 'forbidden');
    c.ws._socket.destroy(); // an abrupt end empties the room too
    const e = await waitFor(async () => {
      const r = await tryJoin(d, room);
      return r.welcome ? r.client : (r.client?.close(), false);
    }, { what: 'the room to be forgotten after an abrupt close' });
    assert.deepEqual(e.welcome.peers, []);
    e.close();
  });
});

describe('server-busy', () => {
  test('max_connections: the next WebSocket is refused with server-busy (1013)', async () => {
    const d = await startDaemon({ limits: { max_connections: 2 } });
    try {
      const a = await joinPeer(d, roomId());
      const b = await connect(d, roomId());
      const r = await tryJoin(d, roomId());
      if (r.refused) {
        // refusing before the upgrade is an equivalent, documented choice
        assert.equal(r.refused.status, 503, JSON.stringify(r.refused));
        assert.equal(JSON.parse(r.refused.body).error, 'server-busy');
      } else {
        assert.ok(!r.welcome, 'third connection must not be welcomed');
        if (r.error) assert.equal(r.error.code, 'server-busy', JSON.stringify(r.error));
        assert.ok(r.error, 'an error message with server-busy precedes the close');
        assert.equal(r.close?.code, 1013);
      }
      assert.ok(a.isOpen && b.isOpen, 'existing connections stay');
      b.close();
      await b.waitClose();
      const c = await waitFor(async () => {
        const x = await tryJoin(d, roomId());
        return x.welcome ? x.client : (x.client?.close(), false);
      }, { what: 'a free connection slot' });
      c.close(); a.close();
    } finally {
      await d.stop();
    }
  });

  test('max_rooms: a join that would create one room too many gets server-busy (1013)', async () => {
    const d = await startDaemon({ rooms: { max_rooms: 2 } });
    try {
      const r1 = roomId();
      const a = await joinPeer(d, r1);
      const b = await joinPeer(d, roomId());
      const r = await tryJoin(d, roomId());
      if (r.refused) {
        assert.equal(r.refused.status, 503, JSON.stringify(r.refused));
        assert.equal(JSON.parse(r.refused.body).error, 'server-busy');
      } else {
        assert.ok(!r.welcome, 'a third room must not be made');
        assert.equal(r.error?.code, 'server-busy', JSON.stringify(r.error));
        assert.equal(r.close?.code, 1013);
      }
      // joining an existing room is still fine
      const c = await joinPeer(d, r1);
      assert.deepEqual(c.welcome.peers, [a.id]);
      // once a room is empty, a new one can be made
      b.send({ type: 'leave' });
      await b.waitClose();
      const e = await waitFor(async () => {
        const x = await tryJoin(d, roomId());
        return x.welcome ? x.client : (x.client?.close(), false);
      }, { what: 'a free room slot' });
      for (const x of [a, c, e]) x.close();
    } finally {
      await d.stop();
    }
  });
});

describe('max_queued_bytes', () => {
  test('a peer that does not read is culled (1008) once its queue is over the limit; the sender is unaffected', async () => {
    const d = await startDaemon({ limits: { max_message_bytes: 65536, max_queued_bytes: 65536 } });
    try {
      const room = roomId();
      const a = await joinPeer(d, room);
      const b = await joinPeer(d, room);
      await a.expect('peer-joined');
      b.ws._socket.pause();
      const chunk = 'q'.repeat(60000);
      let sent = 0;
      // up to ~30 MB, far more than loopback socket buffers hold
      const culled = () => a.queue.some((e) => e.msg.type === 'peer-left') || !a.isOpen;
      while (sent < 500 && !culled()) {
        const text = JSON.stringify({ type: 'signal', to: b.id, data: chunk });
        for (let i = 0; i < 19; i++, sent++) a.ws.send(text);
        await new Promise((r) => { a.ws.send(text, r); sent++; });
        await sleep(5);
      }
      const left = await a.until('peer-left', 15000);
      assert.equal(left.msg.id, b.id);
      assert.ok(a.isOpen, 'the sender stays connected');
      a.send({ type: 'ping', id: 'alive' });
      for (;;) {
        const m = await a.next(5000);
        if (m.type === 'pong' && m.id === 'alive') break;
      }
      b.ws._socket.resume();
      const close = await b.waitClose(20000);
      // the close frame can only arrive if the server still writes it after the backlog
      assert.ok([1008, 1006].includes(close.code), `close code ${close.code}`);
      a.close();
    } finally {
      await d.stop();
    }
  });
});
