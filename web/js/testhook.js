// @ts-check
// testhook.js: `window.xroomTest`, installed by main.js only when the URL
// has `?test`. It lets browser tests read what a person could only see
// (frames decoded per peer, badges, bandwidth caps, keys and frame
// counters of the end-to-end encryption) and force failures.
// Nothing here runs in a normal visit.

import { openMediaKey } from './e2ee/identity.js';
import { turnExpiry } from './transport/signaling.js';

/**
 * @param {{tab: () => string, page: {mesh: import('./call/mesh.js').Mesh | null, sig: import('./transport/signaling.js').Signaling | null,
 *   e2ee: import('./e2ee/e2ee.js').E2ee | null, chat: import('./features/chat.js').Chat | null, cards: import('./features/cards/session.js').Cards | null,
 *   files: import('./features/files/transfers.js').FileTransfers | null, plugins: import('./features/plugins.js').Plugins | null,
 *   pluginsView: import('./views/plugins-view.js').PluginsView | null, reactions: import('./features/reactions.js').Reactions | null, inCall: boolean},
 *   media: import('./call/media.js').Media, ui: import('./views/room-view.js').RoomView}} ctx
 */
export function installTestHook(ctx) {
  const { page, media, ui } = ctx;
  /** @param {string} [tab] */
  const peer = (tab) => {
    const peers = [...(page.mesh?.peers.values() ?? [])];
    const p = tab ? page.mesh?.peers.get(tab) : peers[0];
    if (!p) throw new Error(`no connection to ${tab ?? 'anyone'}`);
    return p;
  };
  const api = {
    get tab() { return ctx.tab(); },
    /** Fresh numbers for every connection, and the page's state. */
    async stats() {
      const mesh = page.mesh;
      if (mesh) await Promise.all([...mesh.peers.values()].map((p) => p.pollStats()));
      return {
        tab: ctx.tab(),
        inCall: page.inCall,
        signaling: page.sig?.state ?? 'idle',
        peerId: page.sig?.id ?? '',
        signalsRejected: page.e2ee?.signals.rejected ?? 0,
        renewals: page.sig?.renewals ?? 0,
        turnExpiry: turnExpiry(page.mesh?.iceServers ?? []),
        peers: mesh?.snapshot() ?? [],
        tiles: ui.tileCount(),
        local: {
          mic: media.micLive, cam: media.camLive, screen: !!media.screen,
          video: media.videoTrack?.label ?? null, source: media.videoSource,
          audio: media.audioTrack?.label ?? null, noiseSuppression: media.audioTrack?.getSettings().noiseSuppression ?? null,
        },
      };
    },
    /** The descriptions in force on the connection to `tab` (default: the first). @param {string} [tab] */
    negotiated(tab) {
      const pc = peer(tab).pc;
      const l = pc.currentLocalDescription;
      const r = pc.currentRemoteDescription;
      return { local: l?.sdp ?? '', remote: r?.sdp ?? '', answer: (l?.type === 'answer' ? l : r)?.sdp ?? '' };
    },
    /**
     * The audio level of `tab` as this page sees it: its synchronization
     * source's, and its inbound RTP stream's (from the decoded audio).
     * @param {string} [tab]
     */
    async audioLevel(tab) {
      const r = peer(tab).recvAudio.receiver;
      let inbound = null;
      (await r.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') inbound = s.audioLevel ?? null; });
      return { sources: r.getSynchronizationSources().map((x) => x.audioLevel ?? null), inbound };
    },
    /** Acts as if ICE had failed on the connection to `tab` (default: the first). @param {string} [tab] */
    forceIceFailure(tab) {
      peer(tab).forceIceFailure();
    },
    /** Closes the connection to `tab` on this side only, without telling anyone. @param {string} [tab] */
    killConnection(tab) {
      peer(tab).killSilently();
    },
    /**
     * A former member's try: opens a media key that tab `from` sealed for
     * tab `to` (as relayed) with every pair key this page holds. True if
     * any opened it.
     * @param {string} from @param {string} to @param {number} id @param {string} key
     */
    async openMediaKey(from, to, id, key) {
      const e = page.e2ee;
      if (!e) return false;
      for (const t of e.signals.keysOf.keys()) {
        const pair = await e.pairKey(t);
        if (pair && await openMediaKey(pair, from, to, id, key)) return true;
      }
      return false;
    },
    /** End-to-end encryption: key ids, rekeys, per-peer locks, safety codes and frame counters. */
    async e2ee() {
      return page.e2ee ? page.e2ee.snapshot() : null;
    },
    /**
     * Watches the video decoded from `tab` for `ms`, polling every 40 ms;
     * returns the longest time without a new frame, and the frames seen.
     * @param {string} tab
     * @param {number} ms
     */
    async watchFrames(tab, ms) {
      const p = peer(tab);
      const read = async () => {
        let n = 0;
        (await p.recvVideo.receiver.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') n = s.framesDecoded ?? 0; });
        return n;
      };
      const start = performance.now();
      let last = await read();
      let lastAt = start;
      let maxGap = 0;
      const first = last;
      while (performance.now() - start < ms) {
        await new Promise((r) => setTimeout(r, 40));
        const n = await read();
        const now = performance.now();
        if (n > last) {
          maxGap = Math.max(maxGap, now - lastAt);
          last = n;
          lastAt = now;
        }
      }
      maxGap = Math.max(maxGap, performance.now() - lastAt);
      return { maxGapMs: Math.round(maxGap), frames: last - first };
    },
    /** Raised hands and reaction counts. */
    reactions() {
      return page.reactions ? page.reactions.snapshot() : null;
    },
    /** Chat counters (messages, sealed data-channel messages sent/received/refused), never the text. */
    chat() {
      return page.chat ? page.chat.snapshot() : null;
    },
    /** File transfers: states, chunk and byte counters, never names or bytes. */
    files() {
      return page.files ? page.files.snapshot() : null;
    },
    /** Plugins: which exist, run here, run elsewhere; requests refused. */
    plugins() {
      // containment: whether this browser keeps plugin pages off WebRTC
      // (views/plugins-view.js probeContainment), 'pending' until known.
      return page.plugins ? { ...page.plugins.snapshot(), containment: page.pluginsView?.containment ?? 'pending' } : null;
    },
    /** Sends files at most this fast (bytes/s; 0: no limit), to act mid-transfer. @param {number} bps */
    limitFileRate(bps) {
      if (page.files) page.files.rateLimit = bps;
    },
    /** SHA-256 (hex) of the newest received, verified file, as stored: what Save would give. */
    async receivedDigest() {
      const t = [...(page.files?.transfers.values() ?? [])].filter((x) => x.dir === 'in' && x.state === 'done' && x.result).at(-1);
      if (!t?.result) return null;
      const h = new Uint8Array(await crypto.subtle.digest('SHA-256', await t.result.arrayBuffer()));
      return [...h].map((b) => b.toString(16).padStart(2, '0')).join('');
    },
    /** Forgets every finished transfer and removes the received files. */
    dismissFiles() {
      const f = page.files;
      if (f) for (const t of [...f.transfers.values()]) if (f.ended(t)) f.dismiss(t);
    },
    /** The chunk size of the files this page sends from now on (benchmarks). @param {number} bytes */
    fileChunk(bytes) {
      if (page.files) page.files.chunk = bytes;
    },
    /** Damages the next `n` chunks this page sends, after hashing them. @param {number} n */
    corruptNextChunks(n) {
      if (page.files) page.files.corruptNext = n;
    },
    /** User cards: sharing mode, per-peer decisions and what was received (states, fingerprints, counters), never a field. */
    cards() {
      return page.cards ? page.cards.snapshot() : null;
    },
    /** Alters `field` of the next card this page sends, after it is signed (the receiver must reject it). @param {string} field @param {unknown} value */
    tamperNextCard(field, value) {
      if (page.cards) page.cards.tamper = { field, value };
    },
    /** Drops the signaling socket as a network blip would (it reconnects by itself). */
    dropSignaling() {
      page.sig?.dropSocket(4002);
    },
  };
  Object.defineProperty(window, 'xroomTest', { value: Object.freeze(api), configurable: false });
}
