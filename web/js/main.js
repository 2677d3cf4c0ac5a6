// @ts-check
// main.js: the room page's wiring. Reads the link, shows the pre-join
// screen, sets up end-to-end encryption (keys from the link's secret), and
// connects signaling, mesh, media and the view to each other. It holds the
// page's state (in the call or not) and nothing else: each job lives in
// its module.

import { Chat, DataLink } from './chat.js';
import { ChatView } from './chat-view.js';
import { Cards } from './card.js';
import { CardEditor, CardTiles } from './card-view.js';
import { FileTransfers, openStore } from './files.js';
import { FilesView } from './files-view.js';
import { Plugins } from './plugins.js';
import { PluginsView } from './plugins-view.js';
import { E2ee, e2eeSupported } from './e2ee.js';
import { parseRoomLink, randomId } from './ids.js';
import { LevelMeter, Media, SpeakingDetector, webrtcSupported } from './media.js';
import { Mesh, hasTurn } from './mesh.js';
import { loadDevices, loadPrivacy, loadProfile, saveDevices, savePrivacy, saveProfile } from './prefs.js';
import { Signaling } from './signaling.js';
import { HIDE_UNAVAILABLE, RoomView } from './ui.js';
import { cleanName } from './wire.js';
import { goal } from './experiments.js';
import { installTestHook } from './testhook.js';

const SELF = 'self';
/** Refusals that, during a call, end it; others are retried with a banner. */
const ENDS_CALL = new Set(['kicked', 'room-closed', 'room-expired', 'bad-room']);

const ui = new RoomView();
const chatView = new ChatView();
const media = new Media();
/** This tab's id: random per page load, carried in every signal so that peers recognise us after a rejoin. */
const tab = randomId(12);

/** @type {{link: {id: string, secret: string} | null, sig: Signaling | null, mesh: Mesh | null,
 *   e2ee: E2ee | null, chat: Chat | null, cards: Cards | null, files: FileTransfers | null,
 *   plugins: Plugins | null, pluginsView: PluginsView | null, e2eeReady: Promise<E2ee> | null,
 *   storeReady: Promise<import('./files.js').Store> | null, broken: boolean, turn: boolean,
 *   inCall: boolean, callConnected: boolean, left: boolean, name: string, meter: LevelMeter | null, levelTimer: ReturnType<typeof setInterval> | undefined}} */
const page = {
  link: null, sig: null, mesh: null, e2ee: null, chat: null, cards: null, files: null, plugins: null, pluginsView: null, e2eeReady: null, storeReady: null, broken: false, turn: false,
  inCall: false, callConnected: false, left: false, name: '', meter: null, levelTimer: undefined,
};

function localState() {
  return { name: cleanName(page.name), mic: media.micLive, cam: media.camLive, screen: !!media.screen };
}

function controls() {
  ui.setControls({ micOn: media.micLive, camOn: media.camOn && (media.camLive || !!media.screen), screen: !!media.screen, canShare: media.canShareScreen && page.inCall });
}

function saveDevicePrefs() {
  saveDevices({ micId: media.micId, camId: media.camId, micOn: media.micOn, camOn: media.camOn });
}

/** Why the preview or our tile has no picture. */
function offText() {
  if (media.camOn && !media.cam) {
    return { denied: 'The camera is blocked', none: 'No camera found', busy: 'The camera is in use by another app' }[
      /** @type {'denied' | 'none' | 'busy'} */ (media.access.video)] ?? 'No camera';
  }
  return 'Camera is off';
}

function deviceNote() {
  const a = media.access;
  /** @type {string[]} */
  const notes = [];
  if (a.video === 'denied') notes.push('The camera is blocked for this site.');
  if (a.audio === 'denied') notes.push('The microphone is blocked for this site.');
  if (a.video === 'busy') notes.push('The camera is in use by another app.');
  if (a.audio === 'busy') notes.push('The microphone is in use by another app.');
  if (a.video === 'none' && media.camOn) notes.push('No camera was found.');
  if (a.audio === 'none' && media.micOn) notes.push('No microphone was found.');
  ui.setDeviceNote(notes.join(' '));
}

/** Follows the microphone with a level meter (pre-join meter, our speaking ring). */
function watchLevel() {
  const track = media.mic;
  if (page.meter?.track !== track) {
    page.meter?.stop();
    page.meter = null;
    try {
      if (track) page.meter = new LevelMeter(track);
    } catch (e) {
      console.warn('xroom: no level meter', e);
    }
  }
}

const selfSpeaking = new SpeakingDetector();
function tickLevel() {
  const level = page.meter?.level() ?? 0;
  if (page.inCall) ui.setSpeaking(SELF, selfSpeaking.update(media.micLive ? level : 0, performance.now()));
  else ui.setPreLevel(level);
}

/** Our own tile's stream, made again only when the outgoing video track changes. */
let selfStream = /** @type {MediaStream | null} */ (null);
function renderSelf() {
  if (page.inCall) {
    const track = media.videoTrack;
    if (selfStream?.getVideoTracks()[0] !== track) selfStream = track ? new MediaStream([track]) : null;
    ui.setTileStream(SELF, selfStream);
    ui.updateTile(SELF, { ...localState(), cam: media.camLive });
  } else {
    ui.setPreview(media.camLive ? media.cam : null, offText());
  }
}

async function refreshDevices() {
  try {
    ui.setDevices(await media.listDevices(), { camId: media.cam?.getSettings().deviceId ?? media.camId, micId: media.mic?.getSettings().deviceId ?? media.micId });
  } catch (e) {
    console.warn('xroom: no device list', e);
  }
}

async function prejoin() {
  const devices = loadDevices();
  page.name = loadProfile().name;
  ui.setName(page.name);
  controls();
  ui.setPreview(null, 'Starting the camera…');
  ui.show('prejoin');
  const access = await media.open(devices);
  if (page.broken) {
    media.stop();
    return;
  }
  if (access.audio === 'denied' && access.video === 'denied') {
    ui.showMessage('denied');
    return;
  }
  afterMediaChange();
  await refreshDevices();
  ui.el.join.focus();
}

function afterMediaChange() {
  watchLevel();
  renderSelf();
  controls();
  deviceNote();
}

media.on('state', () => {
  afterMediaChange();
  saveDevicePrefs();
  page.mesh?.stateChanged();
});
media.on('track', ({ kind }) => {
  page.mesh?.trackChanged(kind);
  renderSelf();
});
media.on('devices', () => { refreshDevices(); });

ui.on('name', ({ name }) => {
  page.name = name;
  saveProfile({ name: cleanName(name) });
});
/** Why a device could not be switched on. @param {'audio' | 'video'} kind */
function problem(kind) {
  const what = kind === 'audio' ? 'microphone' : 'camera';
  const a = media.access[kind];
  if (a === 'denied') return `The ${what} is blocked for this site`;
  if (a === 'busy') return `The ${what} is in use by another app`;
  return `No ${what} found`;
}
ui.on('toggle-mic', async () => {
  const want = !media.micLive;
  await media.setMicOn(want);
  if (want && !media.micLive) ui.toast(problem('audio'));
  else if (page.inCall) ui.toast(want ? 'Microphone on' : 'Microphone muted');
});
ui.on('toggle-cam', async () => {
  const want = !media.camLive && !(media.screen && media.camOn);
  await media.setCamOn(want);
  if (want && !media.camLive && !media.screen) ui.toast(problem('video'));
  refreshDevices();
});
ui.on('gesture', () => LevelMeter.unlock());
ui.on('toggle-screen', async () => {
  if (!page.inCall) return;
  if (media.screen) await media.stopScreen();
  else if (!await media.startScreen()) ui.toast('Screen sharing was cancelled');
});
ui.on('select-camera', ({ id }) => { media.selectCamera(id).then(saveDevicePrefs); });
ui.on('select-mic', ({ id }) => { media.selectMic(id).then(saveDevicePrefs); });
ui.on('copy', async () => {
  ui.toast(await ui.copy(location.href) ? 'Link copied: anyone with it can join' : 'Copy the link from the address bar');
});
ui.on('leave', () => leave());
ui.on('toggle-hide', () => {
  const mesh = page.mesh;
  if (!mesh || !page.inCall) return;
  if (!page.turn) {
    ui.toast(HIDE_UNAVAILABLE);
    return;
  }
  const on = !mesh.relayOnly;
  savePrivacy({ hideAddress: on });
  mesh.setRelayOnly(on);
  ui.setHideAddress({ available: true, on });
  ui.toast(on ? 'Hiding your address: reconnecting through the relay' : 'Connecting directly again');
});
ui.on('join', () => { join(); });
ui.on('toggle-chat', () => { if (page.inCall) chatView.toggle(); });
chatView.on('toggle', () => { if (page.inCall) chatView.toggle(); });
chatView.on('send', ({ text }) => {
  const r = page.chat?.send(text);
  if (r?.ok) chatView.sent();
});
/** The name shown for a peer. @param {string} t */
const peerName = (t) => page.mesh?.peers.get(t)?.remote.name || 'Guest';
const filesView = new FilesView(chatView, {
  name: peerName,
  peers: () => (page.files && page.mesh
    ? [...page.mesh.peers.keys()].filter((t) => page.files?.open(t)).map((t) => ({ tab: t, name: peerName(t) }))
    : []),
  active: () => page.inCall,
});
filesView.on('send', ({ files, to }) => {
  const f = page.files;
  if (!f) return;
  const tabs = to === '*' ? [...(page.mesh?.peers.keys() ?? [])].filter((t) => f.open(t)) : [to];
  for (const file of files) f.send(file, tabs);
  if (!chatView.open) chatView.setOpen(true);
});
filesView.on('accept', ({ transfer }) => { page.files?.accept(transfer); });
filesView.on('decline', ({ transfer }) => page.files?.decline(transfer));
filesView.on('cancel', ({ transfer }) => page.files?.cancel(transfer));
// User cards: the editor (pre-join and call) and what each tile shows.
const cardEditor = new CardEditor();
cardEditor.bindOpeners(['btn-card', 'prejoin-card']);
cardEditor.on('saved', ({ card }) => {
  // The card's name is the display name: one value, in xroom.profile.
  page.name = card.name;
  ui.setName(card.name);
  page.mesh?.stateChanged();
  page.cards?.reload();
});
cardEditor.on('deleted', () => {
  page.name = '';
  ui.setName('');
  page.mesh?.stateChanged();
  page.cards?.deleted();
});
cardEditor.on('contacts', () => page.cards?.recheck());
const cardTiles = new CardTiles({
  tileEl: (t) => ui.tiles.get(t)?.el ?? null,
  nameOf: (t) => page.mesh?.peers.get(t)?.remote.name || 'Guest',
  announce: (text) => ui.announce(text),
});
cardTiles.on('share', ({ tab: t }) => page.cards?.shareWith(t));
cardTiles.on('not-now', ({ tab: t }) => page.cards?.notNow(t));
cardTiles.on('revoke', ({ tab: t }) => page.cards?.revoke(t));
cardTiles.on('save-contact', ({ tab: t }) => {
  if (page.cards && !page.cards.saveContact(t)) ui.toast('The contact could not be saved (storage full or refused).');
});
cardTiles.on('forget-contact', ({ tab: t }) => page.cards?.forgetContact(t));
ui.on('retry', () => location.reload());
ui.on('alt', async () => {
  // Join without devices: only watch and listen.
  await media.open({ micOn: false, camOn: false, micId: media.micId, camId: media.camId });
  ui.show('prejoin');
  afterMediaChange();
  ui.setDeviceNote('You will watch and listen only: the camera and microphone are blocked for this site.');
});

async function join() {
  if (!page.link || page.sig) return;
  LevelMeter.unlock();
  ui.setJoining(true, 'Joining…');
  saveProfile({ name: cleanName(page.name) });
  saveDevicePrefs();
  /** @type {E2ee} */
  let e2ee;
  try {
    e2ee = await /** @type {Promise<E2ee>} */ (page.e2eeReady);
  } catch {
    return; // start() shows why
  }
  if (page.sig) return;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const sig = new Signaling({ url: `${scheme}//${location.host}/ws/${page.link.id}`, auth: e2ee.keys.auth, codec: e2ee.signals });
  const mesh = new Mesh(tab, {
    send: (peerId, msg) => sig.send(peerId, msg),
    prepareBye: (peerId, msg) => sig.prepareFarewell(peerId, msg),
    sendBye: (peerId) => sig.sendFarewell(peerId),
    state: localState,
    track: (kind) => (kind === 'audio' ? media.audioTrack : media.videoTrack),
    source: () => media.videoSource,
  }, e2ee);
  page.sig = sig;
  page.mesh = mesh;
  page.e2ee = e2ee;

  // Chat: sealed data channels, peer to peer; never through the server.
  const link = new DataLink({
    seal: (t, channel, value) => e2ee.data.sealJSON(t, channel, value),
    open: (t, channel, bytes) => e2ee.data.openJSON(t, channel, bytes),
  });
  const chat = new Chat(link, tab);
  page.chat = chat;
  mesh.on('peer-channel', ({ tab: t, channel }) => link.attach(t, channel));
  chat.on('message', ({ message }) => chatView.add(message, message.mine ? '' : mesh.peers.get(message.from)?.remote.name || 'Guest'));
  chat.on('delivery', ({ message }) => chatView.delivery(message));
  // Cards: on the same sealed channel, sent as the owner's sharing mode says.
  const cards = new Cards(link, tab, { nameOf: (t) => mesh.peers.get(t)?.remote.name || '' });
  page.cards = cards;
  link.openListeners.add((t) => cards.peerOpened(t));
  cards.on('peer', ({ tab: t }) => cardTiles.render(t, cards.view(t)));

  // Files: the second sealed data channel, received files streamed to disk.
  const files = new FileTransfers({
    seal: (t, channel, bytes) => e2ee.data.seal(t, channel, bytes),
    open: (t, channel, bytes) => e2ee.data.open(t, channel, bytes),
  }, await /** @type {Promise<import('./files.js').Store>} */ (page.storeReady));
  page.files = files;
  mesh.on('peer-channel', ({ tab: t, files: ch }) => files.attach(t, ch));

  // Plugins: sandboxed frames; who runs what travels sealed on the link.
  const plugins = new Plugins(link, { tab, name: peerName, peers: () => [...mesh.peers.keys()] });
  page.plugins = plugins;
  page.pluginsView = new PluginsView(plugins, { tab, name: peerName, announce: (text) => ui.announce(text) });
  plugins.load();
  files.on('update', ({ transfer }) => filesView.update(transfer));
  files.on('offer', ({ transfer }) => {
    filesView.update(transfer);
    const text = `${peerName(transfer.tab)} wants to send you ${transfer.name}. Open the chat to accept or decline.`;
    ui.announce(text);
    if (!chatView.open) ui.toast(text);
  });

  mesh.on('peer-added', ({ tab: t }) => {
    ui.addTile(t, false);
    cardTiles.render(t, cards.view(t));
  });
  mesh.on('peer-stream', ({ tab: t, stream }) => ui.setTileStream(t, stream));
  mesh.on('peer-updated', ({ tab: t }) => {
    const p = mesh.peers.get(t);
    if (!p) return;
    const fresh = !ui.tiles.get(t)?.info.name && p.remote.name;
    // A relay that gives nothing fails the tile at once (it keeps retrying).
    const badge = p.relayProblem ? 'failed' : p.badge;
    ui.updateTile(t, { ...p.remote, badge, problem: p.relayProblem ? 'turn' : '', ...e2ee.status(t) });
    if (!page.callConnected && (p.badge === 'direct' || p.badge === 'relayed')) {
      page.callConnected = true; // an experiment goal, once per page
      goal('call-connected');
    }
    if (fresh) ui.announce(`${p.remote.name} joined`);
    if (cardTiles.renamed(t)) cardTiles.render(t, cards.view(t));
  });
  mesh.on('peer-removed', ({ tab: t, reason }) => {
    link.detach(t);
    files.detach(t);
    plugins.peerGone(t);
    chat.peerGone(t);
    cards.peerGone(t);
    cardTiles.remove(t);
    const name = ui.tiles.get(t)?.info.name || 'Someone';
    ui.removeTile(t);
    if (reason !== 'closed') ui.announce(`${name} left`);
  });
  e2ee.on('status', ({ tab: t }) => ui.updateTile(t, e2ee.status(t)));
  mesh.on('levels', ({ levels }) => {
    for (const [t, l] of levels) ui.setSpeaking(t, l.speaking);
  });

  sig.on('welcome', (w) => {
    if (!page.inCall) enterCall(w.title);
    ui.setBanner('');
    // Hide our address (relay only) when asked to and the server has a
    // relay; without one the switch shows disabled, saying why.
    page.turn = hasTurn(w.iceServers);
    if (page.turn) mesh.setRelayOnly(loadPrivacy().hideAddress);
    ui.setHideAddress({ available: page.turn, on: mesh.relayOnly });
    mesh.online(w.peers, w.iceServers);
  });
  sig.on('state', ({ state, retryInMs }) => {
    if (state !== 'reconnecting') return;
    const secs = Math.max(1, Math.round(retryInMs / 1000));
    if (page.inCall) {
      mesh.offline();
      ui.setBanner(`Lost the connection to the server. The call goes on; reconnecting in ${secs} s…`);
    } else {
      ui.setJoining(true, `Cannot reach the server; trying again in ${secs} s…`);
    }
  });
  sig.on('peer-left', ({ id }) => mesh.peerLeft(id));
  sig.on('signal', ({ from, msg }) => mesh.signal(from, msg));
  sig.on('refused', ({ code, final }) => {
    if (final && (!page.inCall || ENDS_CALL.has(code))) {
      end();
      ui.showMessage(code);
    } else {
      const why = { 'room-full': 'the room is full', forbidden: 'the room refused this link', 'server-busy': 'the server is busy', 'room-locked': 'the room is locked' }[code] ?? code;
      ui.setBanner(`Cannot rejoin the server (${why}). The call goes on; retrying…`);
    }
  });
  sig.start();
}

/** @param {string} title */
function enterCall(title) {
  page.inCall = true;
  ui.setRoomTitle(title);
  ui.show('call');
  ui.addTile(SELF, true);
  renderSelf();
  controls();
  page.mesh?.stateChanged();
}

/** Closes everything; the caller shows what comes next. */
function end() {
  page.inCall = false;
  page.mesh?.close();
  page.sig?.close();
  page.e2ee?.close();
  page.chat?.close();
  page.cards?.close();
  page.files?.close();
  filesView.clear();
  page.plugins?.close();
  page.pluginsView?.clear();
  chatView.setOpen(false);
  page.meter?.stop();
  page.meter = null;
  media.stop();
}

async function leave() {
  if (!page.inCall || page.left) return;
  page.left = true;
  page.mesh?.leave();
  await page.sig?.leave();
  end();
  ui.showMessage('left');
}

function start() {
  const link = parseRoomLink(location.href, location.href);
  if (!link.ok) {
    ui.showMessage(link.reason === 'no-room' ? 'bad-room' : 'bad-link');
    return;
  }
  if (!window.isSecureContext) {
    ui.showMessage('insecure');
    return;
  }
  if (!webrtcSupported()) {
    ui.showMessage('unsupported');
    return;
  }
  if (!e2eeSupported()) {
    // Never a call that is not encrypted end to end.
    ui.showMessage('no-e2ee');
    return;
  }
  page.link = { id: link.id, secret: link.secret };
  // Keys, the frame worker and our DTLS certificate, while the pre-join
  // screen is up.
  page.e2eeReady = E2ee.create(link.secret, tab);
  // Where received files go; leftovers of closed pages are removed.
  page.storeReady = openStore(tab).then(async (store) => {
    await store.clear().catch(() => {});
    return store;
  });
  page.e2eeReady.catch((e) => {
    console.warn('xroom: end-to-end encryption unavailable', e);
    page.broken = true;
    end();
    ui.showMessage('no-e2ee');
  });
  page.levelTimer = setInterval(tickLevel, 100);
  addEventListener('pagehide', () => {
    if (page.inCall && !page.left) {
      page.mesh?.leave();
      page.sig?.leave();
    }
  });
  if (new URLSearchParams(location.search).has('test')) {
    installTestHook({ tab, page, media, ui });
  }
  prejoin();
}

start();
