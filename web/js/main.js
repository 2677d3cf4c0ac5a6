// @ts-check
// main.js: the room page's wiring. Reads the link, shows the pre-join
// screen, sets up end-to-end encryption (keys from the link's secret), and
// connects signaling, mesh, media and the view to each other. It holds the
// page's state (in the call or not) and nothing else: each job lives in
// its module. It touches no DOM: what the modules report goes to the
// views, what the views report (typed actions) to the modules. Imports
// below go layer by layer, bottom first (docs/client.md).

import { loadDevices, loadPrivacy, loadProfile, saveDevices, savePrivacy, saveProfile } from './util/prefs.js';
import { parseRoomLink } from './util/ids.js';
import { DataLink } from './transport/data-link.js';
import { Signaling, renewDelay, turnExpiry } from './transport/signaling.js';
import { cleanName } from './transport/wire.js';
import { guestName } from './util/text.js';
import { E2ee, e2eeSupported } from './e2ee/e2ee.js';
import { TabIdentity } from './e2ee/identity.js';
import { LevelMeter, Media, SpeakingDetector, webrtcSupported } from './call/media.js';
import { Mesh, hasTurn } from './call/mesh.js';
import { unconnectedText } from './call/roster.js';
import { Cards } from './features/cards/session.js';
import { Chat } from './features/chat.js';
import { Reactions } from './features/reactions.js';
import { goal } from './features/experiments.js';
import { openStore } from './features/files/store.js';
import { FileTransfers } from './features/files/transfers.js';
import { Plugins } from './features/plugins.js';
import { CardEditor } from './views/card-editor.js';
import { CardTiles } from './views/card-tiles.js';
import { ChatView } from './views/chat-view.js';
import { FilesView } from './views/files-view.js';
import { cameraOffText, deviceNoteText, switchProblemText } from './views/messages.js';
import { PluginsView } from './views/plugins-view.js';
import { HIDE_UNAVAILABLE, RoomView } from './views/room-view.js';
import { installTestHook } from './testhook.js';

const SELF = 'self';
/** Refusals that, during a call, end it; others are retried with a banner. */
const ENDS_CALL = new Set(['kicked', 'room-closed', 'room-expired', 'bad-room']);

const ui = new RoomView();
const chatView = new ChatView();
const media = new Media();
/**
 * This tab's id: the hash of the signing key it makes per page load
 * (e2ee/identity.js), carried in every signal so that peers recognise us
 * after a rejoin and nobody else can speak for us. Set once the keys are
 * made, before anything uses it.
 */
let tab = '';

/** @type {{link: {id: string, secret: string} | null, sig: Signaling | null, mesh: Mesh | null,
 *   e2ee: E2ee | null, chat: Chat | null, cards: Cards | null, files: FileTransfers | null,
 *   plugins: Plugins | null, pluginsView: PluginsView | null, e2eeReady: Promise<E2ee> | null,
 *   storeReady: Promise<import('./features/files/store.js').Store> | null, broken: boolean, turn: boolean,
 *   inCall: boolean, callConnected: boolean, left: boolean, name: string, meter: LevelMeter | null, levelTimer: ReturnType<typeof setInterval> | undefined,
 *   rosterTimer: ReturnType<typeof setInterval> | undefined, renewTimer: ReturnType<typeof setTimeout> | undefined,
 *   countdown: ReturnType<typeof setInterval> | undefined, reactions: Reactions | null}} */
const page = {
  link: null, sig: null, mesh: null, e2ee: null, chat: null, cards: null, files: null, plugins: null, pluginsView: null, e2eeReady: null, storeReady: null, broken: false, turn: false,
  inCall: false, callConnected: false, left: false, name: '', meter: null, levelTimer: undefined, rosterTimer: undefined, renewTimer: undefined, countdown: undefined, reactions: null,
};

function localState() {
  return { name: cleanName(page.name), mic: media.micLive, cam: media.camLive, screen: !!media.screen };
}

function controls() {
  ui.setControls({ micOn: media.micLive, camOn: media.camOn && (media.camLive || !!media.screen), screen: !!media.screen, canShare: media.canShareScreen && page.inCall });
}

/** The speaker chosen in the call's settings ('' for the browser's). */
let speakerId = '';

function saveDevicePrefs() {
  saveDevices({ micId: media.micId, camId: media.camId, micOn: media.micOn, camOn: media.camOn, speakerId, noise: media.noiseSuppression });
}

function deviceNote() {
  ui.setDeviceNote(deviceNoteText(media.access, media));
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
  if (page.inCall) ui.tiles.setSpeaking(SELF, selfSpeaking.update(media.micLive ? level : 0, performance.now()));
  else ui.setPreLevel(level);
}

/** Our own tile's stream, made again only when the outgoing video track changes. */
let selfStream = /** @type {MediaStream | null} */ (null);
function renderSelf() {
  if (page.inCall) {
    const track = media.videoTrack;
    if (selfStream?.getVideoTracks()[0] !== track) selfStream = track ? new MediaStream([track]) : null;
    ui.tiles.setStream(SELF, selfStream);
    ui.tiles.update(SELF, { ...localState(), cam: media.camLive });
  } else {
    ui.setPreview(media.camLive ? media.cam : null, cameraOffText(media.access.video, media.camOn && !media.cam));
  }
}

async function refreshDevices() {
  try {
    ui.setDevices(await media.listDevices(), {
      camId: media.cam?.getSettings().deviceId ?? media.camId, micId: media.mic?.getSettings().deviceId ?? media.micId,
      speakerId, noise: media.noiseSuppression,
    });
  } catch (e) {
    console.warn('xroom: no device list', e);
  }
}

async function prejoin() {
  const devices = loadDevices();
  speakerId = devices.speakerId;
  if (speakerId) ui.tiles.setSink(speakerId);
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
ui.on('toggle-mic', async () => {
  const want = !media.micLive;
  await media.setMicOn(want);
  if (want && !media.micLive) ui.toast(switchProblemText('audio', media.access.audio));
  else if (page.inCall) ui.toast(want ? 'Microphone on' : 'Microphone muted');
});
ui.on('toggle-cam', async () => {
  const want = !media.camLive && !(media.screen && media.camOn);
  await media.setCamOn(want);
  if (want && !media.camLive && !media.screen) ui.toast(switchProblemText('video', media.access.video));
  refreshDevices();
});
ui.on('gesture', () => LevelMeter.unlock());
ui.on('toggle-screen', async () => {
  if (!page.inCall) return;
  if (media.screen) await media.stopScreen();
  else if (!await media.startScreen()) ui.toast('Screen sharing was cancelled');
});
ui.on('select-camera', ({ id }) => { media.selectCamera(id).then(saveDevicePrefs).then(refreshDevices); });
ui.on('select-mic', ({ id }) => { media.selectMic(id).then(saveDevicePrefs).then(refreshDevices); });
ui.on('select-speaker', ({ id }) => {
  speakerId = id;
  ui.tiles.setSink(id);
  saveDevicePrefs();
});
ui.on('noise', ({ on }) => { media.setNoiseSuppression(on).then(saveDevicePrefs); });
ui.on('copy', () => { ui.invite.copyLink(); });
ui.on('leave', () => leave());
ui.on('hand', ({ up }) => page.reactions?.setHand(up));
ui.on('react', ({ emoji }) => page.reactions?.react(emoji));
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
const peerName = (t) => page.mesh?.peers.get(t)?.remote.name || guestName(t);
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
  nameOf: (t) => page.mesh?.peers.get(t)?.remote.name || guestName(t),
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
  chat.on('message', ({ message }) => {
    chatView.add(message, message.mine ? '' : peerName(message.from));
    // With the chat closed, a notice says who wrote what (the red count stays).
    if (!message.mine && !chatView.open) ui.toast(`${peerName(message.from)}: ${message.text.length > 80 ? `${message.text.slice(0, 79)}…` : message.text}`);
  });
  chat.on('delivery', ({ message }) => chatView.delivery(message));
  // Cards: on the same sealed channel, sent as the owner's sharing mode says.
  const cards = new Cards(link, tab, { nameOf: (t) => mesh.peers.get(t)?.remote.name || '' });
  page.cards = cards;
  link.openListeners.add((t) => cards.peerOpened(t));
  // A raised hand and reactions: on the same sealed channel.
  const reactions = new Reactions(link);
  page.reactions = reactions;
  reactions.on('hand', ({ tab: t, up }) => {
    if (!t) {
      ui.setHandUp(up);
      ui.tiles.setHand(SELF, up);
      return;
    }
    ui.tiles.setHand(t, up);
    if (up) {
      ui.announce(`${peerName(t)} raised a hand`);
      ui.toast(`✋ ${peerName(t)} raised a hand`);
    }
  });
  reactions.on('react', ({ tab: t, emoji }) => {
    ui.tiles.showReaction(t || SELF, emoji);
    if (t) ui.announce(`${peerName(t)} reacted ${emoji}`);
  });
  cards.on('peer', ({ tab: t }) => cardTiles.render(t, cards.view(t)));

  // Files: the second sealed data channel, received files streamed to disk.
  const files = new FileTransfers({
    seal: (t, channel, bytes) => e2ee.data.seal(t, channel, bytes),
    open: (t, channel, bytes) => e2ee.data.open(t, channel, bytes),
  }, await /** @type {Promise<import('./features/files/store.js').Store>} */ (page.storeReady));
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
    ui.tiles.add(t, false);
    ui.setAlone(false);
    cardTiles.render(t, cards.view(t));
  });
  mesh.on('peer-stream', ({ tab: t, stream }) => ui.tiles.setStream(t, stream));
  mesh.on('peer-updated', ({ tab: t }) => {
    const p = mesh.peers.get(t);
    if (!p) return;
    const fresh = !ui.tiles.get(t)?.info.name && p.remote.name;
    // A relay that gives nothing fails the tile at once (it keeps retrying).
    const badge = p.relayProblem ? 'failed' : p.badge;
    ui.tiles.update(t, { ...p.remote, badge, problem: p.relayProblem ? 'turn' : '', ...e2ee.status(t) });
    if (!page.callConnected && (p.badge === 'direct' || p.badge === 'relayed')) {
      page.callConnected = true; // an experiment goal, once per page
      goal('call-connected');
    }
    if (fresh) {
      ui.announce(`${p.remote.name} joined`);
      ui.toast(`${p.remote.name} joined`);
    }
    if (cardTiles.renamed(t)) cardTiles.render(t, cards.view(t));
  });
  mesh.on('peer-removed', ({ tab: t, reason }) => {
    link.detach(t);
    files.detach(t);
    plugins.peerGone(t);
    chat.peerGone(t);
    cards.peerGone(t);
    reactions.peerGone(t);
    cardTiles.remove(t);
    const name = ui.tiles.get(t)?.info.name || guestName(t);
    ui.tiles.remove(t);
    if (reason !== 'closed') {
      ui.announce(`${name} left`);
      ui.toast(`${name} left`);
    }
    ui.setAlone(mesh.peers.size === 0);
  });
  e2ee.on('status', ({ tab: t }) => ui.tiles.update(t, e2ee.status(t)));
  mesh.on('levels', ({ levels }) => {
    for (const [t, l] of levels) ui.tiles.setSpeaking(t, l.speaking);
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
    // Fresh TURN credentials before these expire: a quiet rejoin.
    clearTimeout(page.renewTimer);
    const wait = renewDelay(turnExpiry(w.iceServers), Date.now());
    if (wait) page.renewTimer = setTimeout(() => sig.renew(), wait);
  });
  sig.on('state', ({ state, retryInMs }) => {
    if (state !== 'reconnecting') return;
    if (page.inCall) mesh.offline();
    // The countdown ticks until the next try.
    const until = Date.now() + retryInMs;
    const show = () => {
      const secs = Math.max(1, Math.ceil((until - Date.now()) / 1000));
      if (page.inCall) ui.setBanner(`Lost the connection to the server. The call goes on; reconnecting in ${secs} s…`);
      else ui.setJoining(true, `Cannot reach the server; trying again in ${secs} s…`);
    };
    clearInterval(page.countdown);
    show();
    page.countdown = setInterval(() => {
      if (sig.state !== 'reconnecting' || Date.now() >= until) clearInterval(page.countdown);
      else show();
    }, 1000);
  });
  sig.on('peer-joined', ({ id }) => mesh.peerJoined(id));
  sig.on('peer-left', ({ id }) => mesh.peerLeft(id));
  page.rosterTimer = setInterval(() => ui.setRoster(unconnectedText(mesh.unconnected())), 1000);
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
  ui.tiles.add(SELF, true);
  ui.setAlone(!page.mesh?.peers.size);
  renderSelf();
  controls();
  page.mesh?.stateChanged();
}

/** Closes everything; the caller shows what comes next. */
function end() {
  page.inCall = false;
  clearInterval(page.rosterTimer);
  clearInterval(page.countdown);
  clearTimeout(page.renewTimer);
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
  ui.invite.setLink(location.href);
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
  const identity = TabIdentity.create().then((id) => {
    tab = id.tab;
    return id;
  });
  page.e2eeReady = identity.then((id) => E2ee.create(link.secret, link.id, id));
  // Where received files go; leftovers of closed pages are removed.
  page.storeReady = identity.then((id) => openStore(id.tab)).then(async (store) => {
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
    installTestHook({ tab: () => tab, page, media, ui });
  }
  prejoin();
}

start();
