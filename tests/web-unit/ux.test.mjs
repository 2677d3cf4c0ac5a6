// The pure parts of the call's self-explaining bits: which key does what
// (views/shortcuts.js), the link handed out (views/invite.js), names for
// people who gave none (util/text.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SHORTCUTS, actionOf } from '../../web/js/views/shortcuts.js';
import { inviteLink } from '../../web/js/views/invite.js';
import { guestName } from '../../web/js/util/text.js';

const key = (k, more = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, repeat: false, ...more });

test('shortcuts: single keys when on, L only asks, "?" always; never with a modifier, a repeat or in a field', () => {
  assert.equal(actionOf(key('m'), false, true), 'toggle-mic');
  assert.equal(actionOf(key('M'), false, true), 'toggle-mic');
  assert.equal(actionOf(key('l'), false, true), 'confirm-leave', 'L never leaves at once');
  assert.equal(actionOf(key('?'), false, true), 'shortcuts');
  assert.equal(actionOf(key('x'), false, true), '');
  assert.equal(actionOf(key('m', { ctrlKey: true }), false, true), '');
  assert.equal(actionOf(key('m', { repeat: true }), false, true), '');
  assert.equal(actionOf(key('m'), true, true), '', 'typing in a field');
  assert.equal(actionOf(key('m'), false, false), '', 'switched off');
  assert.equal(actionOf(key('?'), false, false), 'shortcuts', 'the list still opens');
  assert.ok(SHORTCUTS.every((s) => s.label), 'each has a label for the list');
});

test('the invite link: origin, path and the fragment that holds the key; never the query string', () => {
  assert.equal(inviteLink('https://x.example/r/AbC?test=1#s3cr3t'), 'https://x.example/r/AbC#s3cr3t');
  assert.equal(inviteLink('http://127.0.0.1:8080/r/room#k'), 'http://127.0.0.1:8080/r/room#k');
});

test('people without a name: "Guest" and three letters of their tab', () => {
  assert.equal(guestName('k3p_x-Yz'), 'Guest K3P');
  assert.equal(guestName('_-a'), 'Guest A');
  assert.equal(guestName(''), 'Guest');
  assert.notEqual(guestName('AbCdEf'), guestName('XyZwVu'));
});

test('reactions: only a hand up or down and the listed emoji are taken; a burst from one person is cut', async () => {
  const { REACTIONS, REACT_BURST, Reactions, parseReaction } = await import('../../web/js/features/reactions.js');
  assert.deepEqual(parseReaction({ t: 'hand', up: true }), { t: 'hand', up: true });
  assert.deepEqual(parseReaction({ t: 'react', e: '👍', extra: 1 }), { t: 'react', e: '👍' });
  for (const bad of [null, [], 'x', { t: 'hand' }, { t: 'hand', up: 'yes' }, { t: 'react', e: '💩' }, { t: 'react', e: '<b>' }, { t: 'other' }]) {
    assert.equal(parseReaction(bad), null, JSON.stringify(bad));
  }
  const handlers = new Map();
  const sent = [];
  const link = { handle: (t, fn) => handlers.set(t, fn), openListeners: new Set(), openTabs: () => ['B'], send: (t, v) => sent.push([t, v]) };
  const r = new Reactions(link);
  const got = [];
  r.on('hand', (e) => got.push(['hand', e.tab, e.up]));
  r.on('react', (e) => got.push(['react', e.tab, e.emoji]));
  handlers.get('hand')('B', { t: 'hand', up: true });
  handlers.get('hand')('B', { t: 'hand', up: true }); // no change, no event
  for (let i = 0; i < REACT_BURST + 3; i++) handlers.get('react')('B', { t: 'react', e: REACTIONS[0] });
  handlers.get('react')('B', { t: 'react', e: 'nope' });
  assert.deepEqual(got.filter((g) => g[0] === 'hand'), [['hand', 'B', true]]);
  assert.equal(got.filter((g) => g[0] === 'react').length, REACT_BURST);
  assert.deepEqual(r.snapshot().counters, { sent: 0, shown: REACT_BURST, dropped: 4 });
  // Ours: sent to every open channel; a channel that opens later learns the hand is up.
  r.setHand(true);
  for (const fn of link.openListeners) fn('C');
  assert.deepEqual(sent, [['B', { t: 'hand', up: true }], ['C', { t: 'hand', up: true }]]);
  r.peerGone('B');
  assert.deepEqual(r.snapshot().hands, []);
});

test('the dashboard: a room\'s settings in a few words; closing times through the local-time input and back', async () => {
  const { fromLocalInput, settingsText, toLocalInput } = await import('../../web/js/views/admin-rooms.js');
  const conf = (c) => ({ id: 'r', peers: 0, created_at: null, configured: true, config: { max_peers: null, locked: false, expires_at: null, title: null, ...c } });
  assert.equal(settingsText({ id: 'r', peers: 2, created_at: 1, configured: false }), 'defaults');
  assert.equal(settingsText(conf({})), 'defaults');
  assert.equal(settingsText(conf({ locked: true, max_peers: 3 })), 'locked, at most 3');
  assert.match(settingsText(conf({ expires_at: 1893456000 })), /^closes /);
  // To the minute, as the input shows it, and back.
  const s = 1893456000 + 17 * 60;
  assert.match(toLocalInput(s), /^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
  assert.equal(fromLocalInput(toLocalInput(s)), s);
  assert.equal(toLocalInput(null), '');
  assert.equal(fromLocalInput(''), null);
  assert.equal(fromLocalInput('not a time'), null);
});
