// @ts-check
// webrtc-probe.js: served like a plugin (sandboxed, with the plugin
// headers) and run in a sandboxed frame like one, before any plugin: it
// connects two peer connections of its own to each other, on this device's
// own addresses (host candidates, no server: nothing leaves the device).
// If they connect, a plugin could send packets anywhere by WebRTC, and the
// app runs no plugin in this browser; if the browser keeps plugin pages
// off WebRTC (Chromium honours the daemon's
// `Connection-Allowlist: (response-origin);webrtc=block`), they cannot.

const WAIT_MS = 8000;

/** @returns {Promise<{connected: boolean, state: string, error: string | null}>} */
async function probe() {
  /** @type {RTCPeerConnection[]} */
  const pcs = [];
  try {
    const a = new RTCPeerConnection({ iceServers: [] });
    const b = new RTCPeerConnection({ iceServers: [] });
    pcs.push(a, b);
    // (Where WebRTC is blocked, Chromium's methods may return nothing at
    // all: every call goes through a promise of our own.)
    /** @param {RTCPeerConnection} to @param {RTCIceCandidate} c */
    const add = (to, c) => { Promise.resolve().then(() => to.addIceCandidate(c)).catch(() => {}); };
    a.addEventListener('icecandidate', (e) => { if (e.candidate) add(b, e.candidate); });
    b.addEventListener('icecandidate', (e) => { if (e.candidate) add(a, e.candidate); });
    const settled = new Promise((resolve) => {
      const check = () => {
        if (a.connectionState === 'connected' || a.connectionState === 'failed') resolve(undefined);
      };
      a.addEventListener('connectionstatechange', check);
      setTimeout(resolve, WAIT_MS);
    });
    a.createDataChannel('probe');
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(/** @type {RTCSessionDescription} */ (a.localDescription));
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(/** @type {RTCSessionDescription} */ (b.localDescription));
    await settled;
    return { connected: a.connectionState === 'connected', state: a.connectionState, error: null };
  } catch (e) {
    return { connected: false, state: 'error', error: String(/** @type {any} */ (e)?.name ?? e) };
  } finally {
    for (const pc of pcs) try { pc.close(); } catch { /* closed */ }
  }
}

probe().then((r) => parent.postMessage({ type: 'xroom:webrtc-probe', ...r }, '*'));
