// @ts-check
// testhook.js: `window.xroomTest`, installed by main.js only when the URL
// has `?test`. It lets browser tests read what a person could only see
// (frames decoded per peer, badges, bandwidth caps) and force failures.
// Nothing here runs in a normal visit.

/**
 * @param {{tab: string, page: {mesh: import('./mesh.js').Mesh | null, sig: import('./signaling.js').Signaling | null, inCall: boolean},
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
    /** Drops the signaling socket as a network blip would (it reconnects by itself). */
    dropSignaling() {
      page.sig?.dropSocket(4002);
    },
  };
  Object.defineProperty(window, 'xroomTest', { value: Object.freeze(api), configurable: false });
}
