// The WebSocket message contract of protocol.md: join/welcome, peer-joined,
// peer-left, signal relay, leave, ping/pong, and the errors that leave the
// connection open (bad-json, bad-message, not-joined, already-joined,
// unknown-peer) plus the frame-level closes (1007 invalid UTF-8, 1003 binary).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  PEER_ID_RE, SUBPROTOCOL, connect, joinPeer, request, roomId, signalText, sleep, startDaemon,
} from './harness.mjs';

let d;
before(async () => { d = await startDaemon({ rooms: { max_peers: 5 } }); });
after(async () => { await d?.stop(); });

describe('join and welcome', () => {
  test('welcome carries a 16-char base64url id, no peers, an iceServers array and maxPeers', async () => {
    const a = await connect(d, roomId());
    const w = await a.join();
    assert.equal(w.type, 'welcome');
    assert.match(w.id, PEER_ID_RE);
    assert.deepEqual(w.peers, []);
    assert.ok(Array.isArray(w.iceServers), 'iceServers is an array');
    assert.equal(w.maxPeers, 5);
    assert.ok(Number.isInteger(w.maxPeers));
    a.close();
  });

  test('TURN credentials go to joined peers only: in welcome, never in /api/session', async () => {
    const t = await startDaemon({ ice: { stun: ['stun:stun.example.org:3478'],
      turn: { urls: ['turn:turn.example.org:3478?transport=udp'], secret: 'shared-with-coturn', ttl_s: 600 } } });
    try {
      const a = await connect(t, roomId());
      const w = await a.join();
      const turn = w.iceServers.find((s) => String(s.urls).includes('turn:'));
      assert.ok(turn, 'welcome has the TURN server');
      const [expiry] = turn.username.split(':');
      const left = Number(expiry) - Date.now() / 1000;
      assert.ok(left > 590 && left <= 601, `valid for ttl_s (${left} s)`);
      assert.match(turn.credential, /^[A-Za-z0-9+/]{27}=$/, 'HMAC-SHA1, base64');
      a.close();
      const r = await request(t, { path: '/api/session' });
      assert.equal(r.status, 200);
      const session = r.json();
      assert.deepEqual(session.iceServers, [{ urls: ['stun:stun.example.org:3478'] }], 'STUN only');
      assert.doesNotMatch(r.text, /turn:|credential|username|shared-with-coturn/);
    } finally {
      await t.stop();
    }
  });

  test('peers are listed in join order and earlier peers get peer-joined', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    assert.deepEqual(b.welcome.peers, [a.id]);
    assert.deepEqual(await a.next(), { type: 'peer-joined', id: b.id });
    const c = await joinPeer(d, room);
    assert.deepEqual(c.welcome.peers, [a.id, b.id]);
    assert.deepEqual(await a.next(), { type: 'peer-joined', id: c.id });
    assert.deepEqual(await b.next(), { type: 'peer-joined', id: c.id });
    assert.equal(new Set([a.id, b.id, c.id]).size, 3);
    await c.expectSilence(200);
    for (const x of [a, b, c]) x.close();
  });

  test('peer ids are fresh on every join', async () => {
    const room = roomId();
    const ids = new Set();
    for (let i = 0; i < 20; i++) {
      const c = await joinPeer(d, room);
      assert.match(c.id, PEER_ID_RE);
      ids.add(c.id);
      c.send({ type: 'leave' });
      await c.waitClose();
    }
    assert.equal(ids.size, 20);
  });

  test('the subprotocol xroom.v1 is echoed when offered', async () => {
    const a = await connect(d, roomId(), { protocols: [SUBPROTOCOL] });
    assert.equal(a.upgradeHeaders['sec-websocket-protocol'], SUBPROTOCOL);
    await a.join();
    a.close();
    const b = await connect(d, roomId(), { protocols: ['other.v9', SUBPROTOCOL] });
    assert.equal(b.upgradeHeaders['sec-websocket-protocol'], SUBPROTOCOL);
    await b.join();
    b.close();
  });

  test('a client offering no subprotocol is served the same', async () => {
    const room = roomId();
    const a = await connect(d, room, { protocols: null });
    assert.equal(a.upgradeHeaders['sec-websocket-protocol'], undefined);
    await a.join();
    const b = await joinPeer(d, room, undefined, { protocols: null });
    assert.deepEqual(b.welcome.peers, [a.id]);
    b.send({ type: 'signal', to: a.id, data: { hello: 1 } });
    await a.expect('peer-joined');
    assert.deepEqual(await a.next(), { type: 'signal', from: b.id, data: { hello: 1 } });
    a.close(); b.close();
  });

  test('a client offering only other subprotocols is refused', async () => {
    await assert.rejects(connect(d, roomId(), { protocols: ['chat', 'other.v1'] }));
  });

  test('a query string on the path is ignored', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room, undefined, { path: `/ws/${room}?x=1&room=zzz` });
    assert.deepEqual(b.welcome.peers, [a.id]);
    a.close(); b.close();
  });

  test('room ids of 1 and 64 characters of [A-Za-z0-9_-] are valid', async () => {
    for (const room of ['a', '_', '-', 'A'.repeat(64), 'aZ09_-'.repeat(10) + 'abcd']) {
      const c = await connect(d, room);
      const w = await c.join();
      assert.equal(w.type, 'welcome', room);
      c.close();
    }
  });

  test('auth of 128 ASCII characters is accepted; "" means none', async () => {
    const room = roomId();
    const a = await joinPeer(d, room, 'x'.repeat(128));
    const b = await joinPeer(d, room, 'x'.repeat(128));
    assert.deepEqual(b.welcome.peers, [a.id]);
    const room2 = roomId();
    const c = await joinPeer(d, room2, '');
    const e = await joinPeer(d, room2);
    assert.deepEqual(e.welcome.peers, [c.id]);
    const f = await joinPeer(d, room2, '');
    assert.deepEqual(f.welcome.peers, [c.id, e.id]);
    for (const x of [a, b, c, e, f]) x.close();
  });

  test('auth too long, non-ASCII or not a string is bad-message and the connection stays waiting', async () => {
    const c = await connect(d, roomId());
    for (const auth of ['x'.repeat(129), 'caf\u00e9', 'tab\u{1F600}', 5, true, null, ['a'], { a: 1 }]) {
      c.send({ type: 'join', auth });
      await c.expectError('bad-message');
    }
    // still waiting: a signal is not-joined, then a proper join works
    c.send({ type: 'signal', to: 'AAAAAAAAAAAAAAAA', data: 1 });
    await c.expectError('not-joined');
    const w = await c.join('ok');
    assert.match(w.id, PEER_ID_RE);
    c.close();
  });
});

describe('signal', () => {
  test('data reaches exactly the named peer, with from set, unchanged in value', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    const c = await joinPeer(d, room);
    await a.expect('peer-joined'); await a.expect('peer-joined'); await b.expect('peer-joined');
    const values = [
      { sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n', type: 'offer' },
      [1, 'two', null, true, false, { y: 1.5, z: [-3, 0.25e-3] }],
      'just a string with "quotes" and \\ and \u2028 and \u{1F600}',
      0, -17, 3.141592653589793, 9007199254740991, null, true, false, {}, [], '',
      { nested: { deep: { deeper: [[[[{}]]]] } } },
    ];
    for (const data of values) {
      a.send({ type: 'signal', to: b.id, data });
      const m = await b.next();
      assert.deepEqual(m, { type: 'signal', from: a.id, data });
    }
    assert.deepEqual(await a.sync(), []);
    await c.expectSilence(100);
    for (const x of [a, b, c]) x.close();
  });

  test('signals keep their order over 1,000 messages each way', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    await a.expect('peer-joined');
    const N = 1000;
    for (let i = 0; i < N; i++) {
      a.send({ type: 'signal', to: b.id, data: { seq: i, pad: 'a'.repeat(i % 50) } });
      b.send({ type: 'signal', to: a.id, data: { seq: i } });
    }
    for (const [rx, tx] of [[b, a], [a, b]]) {
      for (let i = 0; i < N; i++) {
        const m = await rx.next(5000);
        assert.equal(m.type, 'signal');
        assert.equal(m.from, tx.id);
        assert.equal(m.data.seq, i);
      }
    }
    a.close(); b.close();
  });

  test('no leakage across several rooms used at once', async () => {
    const rooms = [roomId(), roomId(), roomId(), roomId()];
    const peers = [];
    for (const room of rooms) {
      for (let i = 0; i < 3; i++) peers.push({ room, c: await joinPeer(d, room) });
    }
    const byRoom = (room) => peers.filter((p) => p.room === room);
    // each peer sends 5 messages to each other peer of its room
    for (const p of peers) {
      for (const q of byRoom(p.room)) {
        if (q === p) continue;
        for (let k = 0; k < 5; k++) p.c.send({ type: 'signal', to: q.c.id, data: { room: p.room, from: p.c.id, k } });
      }
    }
    for (const p of peers) {
      const mates = new Set(byRoom(p.room).map((q) => q.c.id).filter((id) => id !== p.c.id));
      // 2 others x 5 messages, plus peer-joined for later joiners
      const laterJoiners = byRoom(p.room).length - 1 - p.c.welcome.peers.length;
      const got = [];
      for (let i = 0; i < 10 + laterJoiners; i++) got.push(await p.c.next(3000));
      for (const m of got) {
        if (m.type === 'peer-joined') { assert.ok(mates.has(m.id), 'peer-joined from own room only'); continue; }
        assert.equal(m.type, 'signal');
        assert.ok(mates.has(m.from), `signal from ${m.from} is from a room mate`);
        assert.equal(m.data.room, p.room);
        assert.equal(m.data.from, m.from);
      }
      assert.equal(got.filter((m) => m.type === 'signal').length, 10);
      for (const id of p.c.welcome.peers) assert.ok(mates.has(id));
    }
    // a peer of another room is unknown-peer
    peers[0].c.send({ type: 'signal', to: byRoom(rooms[1])[0].c.id, data: 'x' });
    await peers[0].c.expectError('unknown-peer');
    for (const p of peers) await p.c.expectSilence(0);
    await sleep(200);
    for (const p of peers.slice(1)) assert.equal(p.c.queue.length, 0, 'nothing leaked');
    for (const p of peers) p.c.close();
  });

  test('data null is relayed as null', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    a.sendText(signalText(b.id, 'null'));
    const m = await b.next();
    assert.equal(m.type, 'signal');
    assert.ok('data' in m, 'data member present');
    assert.equal(m.data, null);
    a.close(); b.close();
  });

  test('unknown-peer: own id, malformed ids, absent ids, a departed peer, a peer of another room', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    const other = await joinPeer(d, roomId());
    const gone = await joinPeer(d, room);
    gone.send({ type: 'leave' });
    await gone.waitClose();
    await a.until('peer-left');
    for (const to of [a.id, 'abc', '', 'x'.repeat(100), '!!!!!!!!!!!!!!!!', 'AAAAAAAAAAAAAAAA', other.id, gone.id, b.id + ' ']) {
      a.send({ type: 'signal', to, data: { secret: 1 } });
      await a.expectError('unknown-peer');
    }
    assert.deepEqual(await a.sync(), []);
    // b saw b's own events only: peer-joined(gone), peer-left(gone)
    const bm = await b.sync();
    assert.deepEqual(bm.map((m) => m.type), ['peer-joined', 'peer-left']);
    await other.expectSilence(50);
    // still usable
    a.send({ type: 'signal', to: b.id, data: 'ok' });
    assert.deepEqual(await b.next(), { type: 'signal', from: a.id, data: 'ok' });
    for (const x of [a, b, other]) x.close();
  });

  test('not-joined: signal before join, connection stays open and may join', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const c = await connect(d, room);
    c.send({ type: 'signal', to: a.id, data: 'sneaky' });
    await c.expectError('not-joined');
    await a.expectSilence(150);
    const w = await c.join();
    assert.deepEqual(w.peers, [a.id]);
    a.close(); c.close();
  });

  test('already-joined: a second join errors, the peer stays joined once', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    await a.expect('peer-joined');
    b.send({ type: 'join' });
    await b.expectError('already-joined');
    b.send({ type: 'join', auth: 'other' });
    await b.expectError('already-joined');
    await a.expectSilence(150);
    b.send({ type: 'signal', to: a.id, data: 1 });
    assert.deepEqual(await a.next(), { type: 'signal', from: b.id, data: 1 });
    a.close(); b.close();
  });
});

describe('leave and peer-left', () => {
  test('leave closes the socket with 1000 and the others get peer-left', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    const c = await joinPeer(d, room);
    await a.expect('peer-joined'); await a.expect('peer-joined'); await b.expect('peer-joined');
    b.send({ type: 'leave' });
    const close = await b.waitClose();
    assert.equal(close.code, 1000);
    assert.deepEqual(await a.next(), { type: 'peer-left', id: b.id });
    assert.deepEqual(await c.next(), { type: 'peer-left', id: b.id });
    a.close(); c.close();
  });

  test('a closing handshake from the client gives peer-left', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    await a.expect('peer-joined');
    b.close(1000);
    assert.deepEqual(await a.next(), { type: 'peer-left', id: b.id });
    a.close();
  });

  test('an abrupt disconnect (TCP drop) gives peer-left', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    await a.expect('peer-joined');
    b.ws._socket.destroy();
    assert.deepEqual(await a.next(5000), { type: 'peer-left', id: b.id });
    a.send({ type: 'signal', to: b.id, data: 1 });
    await a.expectError('unknown-peer');
    a.close();
  });

  test('a waiting connection that closes produces no peer-left', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const w = await connect(d, room);
    w.close();
    await w.waitClose();
    await a.expectSilence(200);
    a.close();
  });
});

describe('ping and pong', () => {
  const ids = ['abc', '', 'caf\u00e9', 0, 42, -7, 1.5, 1e300, true, false, null];
  for (const state of ['waiting', 'joined']) {
    test(`pong echoes every scalar id kind (${state})`, async () => {
      const c = await connect(d, roomId());
      if (state === 'joined') await c.join();
      for (const id of ids) {
        c.send({ type: 'ping', id });
        const m = await c.expect('pong');
        assert.ok('id' in m, `pong for ${JSON.stringify(id)} has an id`);
        assert.deepEqual(m.id, id);
      }
      c.send({ type: 'ping' });
      const m = await c.expect('pong');
      assert.ok(!('id' in m), `pong without id when none was sent, got ${JSON.stringify(m)}`);
      c.close();
    });
  }

  test('a ping id that is an object or array is bad-message', async () => {
    const c = await connect(d, roomId());
    c.send({ type: 'ping', id: { a: 1 } });
    await c.expectError('bad-message');
    c.send({ type: 'ping', id: [1] });
    await c.expectError('bad-message');
    c.send({ type: 'ping', id: 'still-open' });
    assert.deepEqual(await c.next(), { type: 'pong', id: 'still-open' });
    c.close();
  });
});

describe('bad-json keeps the connection open', () => {
  const nested = (n) => '['.repeat(n) + ']'.repeat(n);
  const cases = {
    'not JSON': 'hello',
    'empty message': '',
    'an array': '[]',
    'a string': '"ping"',
    'a number': '42',
    'null': 'null',
    'truncated': '{"type":"ping"',
    'trailing comma': '{"type":"ping",}',
    'trailing garbage': '{"type":"ping"} x',
    'two objects': '{"type":"ping"}{"type":"ping"}',
    'single quotes': "{'type':'ping'}",
    'duplicate type': '{"type":"ping","type":"ping"}',
    'duplicate keys in id object': '{"type":"ping","id":1,"id":2}',
  };
  for (const state of ['waiting', 'joined']) {
    test(`malformed messages are bad-json (${state})`, async () => {
      const c = await connect(d, roomId());
      if (state === 'joined') await c.join();
      for (const [name, text] of Object.entries(cases)) {
        c.sendText(text);
        const m = await c.next();
        assert.deepEqual([name, m.type, m.code], [name, 'error', 'bad-json'], JSON.stringify(m));
        assert.equal(typeof m.message, 'string');
      }
      assert.deepEqual(await c.sync(), []);
      c.close();
    });
  }

  test('bad data in a signal is bad-json and never reaches the peer', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    await a.expect('peer-joined');
    const bad = {
      'number beyond double': '1e400',
      'negative beyond double': '-1e400',
      'integer beyond int64': '123456789012345678901234567890',
      'negative integer beyond int64': '-123456789012345678901234567890',
      'duplicate keys in data': '{"a":1,"a":2}',
      'duplicate keys deep in data': '[{"x":{"k":1,"k":1}}]',
      '10,000 nested arrays': nested(10000),
      'data nested 64 deep (65 with the envelope)': nested(64),
      'NaN': 'NaN',
      'leading zero': '01',
      'unclosed string': '"abc',
      'control character in string': '"a\u0001b"',
    };
    for (const [name, dataText] of Object.entries(bad)) {
      a.sendText(signalText(b.id, dataText));
      const m = await a.next();
      assert.deepEqual([name, m.type, m.code], [name, 'error', 'bad-json'], JSON.stringify(m));
    }
    assert.deepEqual(await a.sync(), []);
    // int64 edges and a large double are fine
    // 63 levels in data + the envelope = 64, the documented maximum
    for (const dataText of ['9223372036854775807', '-9223372036854775808', '1.7976931348623157e308', nested(63)]) {
      a.sendText(signalText(b.id, dataText));
    }
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await b.next());
    assert.deepEqual(got.map((m) => m.type), ['signal', 'signal', 'signal', 'signal']);
    assert.equal(got[0].data, 9223372036854775807);
    assert.equal(got[1].data, -9223372036854775808);
    assert.equal(got[2].data, 1.7976931348623157e308);
    assert.deepEqual(got[3].data, JSON.parse(nested(63)));
    await b.expectSilence(100);
    a.close(); b.close();
  });
});

describe('bad-message keeps the connection open', () => {
  test('unknown or missing type, missing or mistyped members', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    await a.expect('peer-joined');
    const cases = [
      {},
      { type: 1 },
      { type: null },
      { type: ['join'] },
      { type: 'nope' },
      { type: 'JOIN' },
      { type: 'welcome', id: 'x', peers: [] },
      { type: 'pong' },
      { type: 'signal' },
      { type: 'signal', to: b.id },
      { type: 'signal', data: 1 },
      { type: 'signal', to: 5, data: 1 },
      { type: 'signal', to: null, data: 1 },
      { type: 'signal', to: [b.id], data: 1 },
    ];
    for (const msg of cases) {
      a.send(msg);
      const m = await a.next();
      assert.deepEqual([msg, m.type, m.code], [msg, 'error', 'bad-message'], JSON.stringify(m));
    }
    assert.deepEqual(await a.sync(), []);
    await b.expectSilence(50);
    a.send({ type: 'signal', to: b.id, data: 'ok' });
    assert.deepEqual(await b.next(), { type: 'signal', from: a.id, data: 'ok' });
    a.close(); b.close();
  });
});

describe('frame-level errors close the connection', () => {
  test('a text frame that is not valid UTF-8 is closed 1007 (waiting)', async () => {
    const c = await connect(d, roomId());
    c.sendText(Buffer.from([0x7b, 0x22, 0x74, 0xff, 0xfe, 0x7d]));
    const close = await c.waitClose();
    assert.equal(close.code, 1007);
  });

  test('invalid UTF-8 inside a JSON string is closed 1007 and peers see peer-left', async () => {
    const room = roomId();
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    await a.expect('peer-joined');
    b.sendText(Buffer.concat([Buffer.from('{"type":"ping","id":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]));
    assert.equal((await b.waitClose()).code, 1007);
    assert.deepEqual(await a.next(), { type: 'peer-left', id: b.id });
    a.close();
  });

  test('a UTF-8 sequence split across two fragments is fine', async () => {
    const c = await connect(d, roomId());
    c.sendText(Buffer.concat([Buffer.from('{"type":"ping","id":"caf'), Buffer.from([0xc3])]), { fin: false });
    c.sendText(Buffer.concat([Buffer.from([0xa9]), Buffer.from('"}')]), { fin: true });
    assert.deepEqual(await c.next(), { type: 'pong', id: 'caf\u00e9' });
    c.close();
  });

  test('a binary frame is closed 1003 (waiting and joined)', async () => {
    const room = roomId();
    const w = await connect(d, room);
    w.sendBinary(Buffer.from('{"type":"ping"}'));
    assert.equal((await w.waitClose()).code, 1003);
    const a = await joinPeer(d, room);
    const b = await joinPeer(d, room);
    await a.expect('peer-joined');
    b.sendBinary(Buffer.from([1, 2, 3]));
    assert.equal((await b.waitClose()).code, 1003);
    assert.deepEqual(await a.next(), { type: 'peer-left', id: b.id });
    a.close();
  });
});
