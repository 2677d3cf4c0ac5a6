// @ts-check
// testhook.js: `window.xroomTest`, installed by main.js only when the URL
// has `?test`. It lets browser tests read what a person could only see
// (frames decoded per peer, badges, bandwidth caps, keys and frame
// counters of the end-to-end encryption) and force failures.
// Nothing here runs in a normal visit.

/**
 * @param {{tab: string, page: {mesh: import('./mesh.js').Mesh | null, sig: import('./signaling.js').Signaling | null,
 *   e2ee: import('./e2ee.js').E2ee | null, chat: import('./chat.js').Chat | null, inCall: boolean},
 *   media: import('./media.js').Media, ui: import('./ui.js').RoomView}} ctx
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
    tab: ctx.tab,
    /** Fresh numbers for every connection, and the page's state. */
    async stats() {
      const mesh = page.mesh;
      if (mesh) await Promise.all([...mesh.peers.values()].map((p) => p.pollStats()));
      return {
        tab: ctx.tab,
        inCall: page.inCall,
        signaling: page.sig?.state ?? 'idle',
        peerId: page.sig?.id ?? '',
        signalsRejected: page.e2ee?.signals.rejected ?? 0,
        peers: mesh?.snapshot() ?? [],
        tiles: ui.tileCount(),
        local: {
          mic: media.micLive, cam: media.camLive, screen: !!media.screen,
          video: media.videoTrack?.label ?? null, source: media.videoSource,
        },
      };
    },
    /** Acts as if ICE had failed on the connection to `tab` (default: the first). @param {string} [tab] */
    forceIceFailure(tab) {
      peer(tab).forceIceFailure();
    },
    /** Closes the connection to `tab` on this side only, without telling anyone. @param {string} [tab] */
    killConnection(tab) {
      peer(tab).killSilently();
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
    /** Chat counters (messages, sealed data-channel messages sent/received/refused), never the text. */
    chat() {
      return page.chat ? page.chat.snapshot() : null;
    },
    /** Drops the signaling socket as a network blip would (it reconnects by itself). */
    dropSignaling() {
      page.sig?.dropSocket(4002);
    },
  };
  Object.defineProperty(window, 'xroomTest', { value: Object.freeze(api), configurable: false });
}
