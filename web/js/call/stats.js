// @ts-check
// stats.js: what a connection's getStats report says, and the badge a
// tile shows for it, as pure functions. The numbers the tests and the
// view read (frames decoded, audio received, what we send, the DTLS
// certificates used), the route (a relay in the selected candidate pair:
// `relayed`, else `direct`), when an ICE restart counts as done, and the
// badge after a failure. No DOM, no RTCPeerConnection: a report in,
// numbers out.

/** @typedef {'connecting' | 'direct' | 'relayed' | 'reconnecting' | 'failed'} Badge */
/**
 * @typedef {{
 *   framesDecoded: number, framesReceived: number, frameWidth: number, frameHeight: number,
 *   audioBytes: number, audioPackets: number, audioEnergy: number,
 *   videoBytesSent: number, framesEncoded: number, sentFrameHeight: number,
 *   qualityLimitation: string, route: 'direct' | 'relayed' | '', localUfrag: string,
 *   dtls: {local: string, remote: string},
 * }} PeerStats
 */

/** After this many restarts and rebuilds without a connection the badge says failed (trying goes on). */
export const FAILED_AFTER = 4;
/** Stats polls with the restart negotiated after which the restart counts as done anyway. */
const SETTLE_POLLS = 3;

/** @returns {PeerStats} */
export function emptyStats() {
  return {
    framesDecoded: 0, framesReceived: 0, frameWidth: 0, frameHeight: 0, audioBytes: 0, audioPackets: 0, audioEnergy: 0,
    videoBytesSent: 0, framesEncoded: 0, sentFrameHeight: 0, qualityLimitation: '', route: '', localUfrag: '',
    dtls: { local: '', remote: '' },
  };
}

/** The ICE ufrag of a session description ('' if none). @param {string | undefined} sdp */
export function ufragOf(sdp) {
  return /a=ice-ufrag:(\S+)/.exec(sdp ?? '')?.[1] ?? '';
}

/**
 * Reads a getStats report into `st`: what we receive on our two receivers
 * (by mid), what we send, the DTLS certificates of the selected transport,
 * the route of the selected candidate pair and its local ufrag. Returns,
 * in the report's order, what each of our senders has sent (video frames
 * encoded, audio packets) for the seal check, and what each of our
 * receivers has received in this report (video frames, audio packets) for
 * the open check.
 * @param {Map<string, any>} byId  the report's entries by id
 * @param {{audio: string | null, video: string | null}} mids  our receiving transceivers' mids
 * @param {PeerStats} st
 * @returns {{sent: Array<['audio' | 'video', number]>, received: Array<['audio' | 'video', number]>}}
 */
export function readStats(byId, mids, st) {
  /** @type {Array<['audio' | 'video', number]>} */
  const sent = [];
  /** @type {Array<['audio' | 'video', number]>} */
  const received = [];
  let pairId = '';
  for (const s of byId.values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'video' && s.mid === mids.video) {
      st.framesDecoded = s.framesDecoded ?? 0;
      st.framesReceived = s.framesReceived ?? 0;
      received.push(['video', st.framesReceived]);
      st.frameWidth = s.frameWidth ?? 0;
      st.frameHeight = s.frameHeight ?? 0;
    } else if (s.type === 'inbound-rtp' && s.kind === 'audio' && s.mid === mids.audio) {
      st.audioBytes = s.bytesReceived ?? 0;
      st.audioPackets = s.packetsReceived ?? 0;
      received.push(['audio', st.audioPackets]);
      st.audioEnergy = s.totalAudioEnergy ?? 0;
    } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
      st.videoBytesSent = s.bytesSent ?? 0;
      st.framesEncoded = s.framesEncoded ?? 0;
      st.sentFrameHeight = s.frameHeight ?? 0;
      st.qualityLimitation = s.qualityLimitationReason ?? '';
      sent.push(['video', st.framesEncoded]);
    } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
      sent.push(['audio', s.packetsSent ?? 0]);
    } else if (s.type === 'transport' && s.selectedCandidatePairId) {
      pairId = s.selectedCandidatePairId;
      // The certificates DTLS actually used (the safety code is made
      // from the SDP's fingerprints, which DTLS checks against these).
      const cert = (/** @type {string} */ id) => {
        const c = byId.get(id);
        return c ? `${String(c.fingerprintAlgorithm).toLowerCase()} ${String(c.fingerprint).toUpperCase()}` : '';
      };
      st.dtls = { local: cert(s.localCertificateId), remote: cert(s.remoteCertificateId) };
      if (s.iceLocalUsernameFragment) st.localUfrag = s.iceLocalUsernameFragment;
    }
  }
  const pair = byId.get(pairId);
  if (pair) {
    const l = byId.get(pair.localCandidateId);
    const r = byId.get(pair.remoteCandidateId);
    st.route = l?.candidateType === 'relay' || r?.candidateType === 'relay' ? 'relayed' : 'direct';
    if (l?.usernameFragment) st.localUfrag = l.usernameFragment;
  }
  return { sent, received };
}

/**
 * Whether an ICE restart is done: it has been negotiated (our description
 * has a new ufrag and we are stable), and either the new ICE generation
 * carries the media (the selected pair uses our new ufrag), or the
 * connection has stayed up SETTLE_POLLS polls since (the browser may keep
 * a working pair of the old generation).
 * @param {{negotiated: boolean, pairUfrag: string, ufrag: string, settling: number}} r
 */
export function restartDone(r) {
  return r.negotiated && (r.pairUfrag === r.ufrag || r.settling >= SETTLE_POLLS);
}

/**
 * The badge while a connection is being restarted or rebuilt: `failed`
 * after more than FAILED_AFTER attempts since it was last up (trying goes
 * on), `reconnecting` before.
 * @param {number} attempts
 * @returns {Badge}
 */
export function retryBadge(attempts) {
  return attempts > FAILED_AFTER ? 'failed' : 'reconnecting';
}

/**
 * The badge of a connection that is down with nobody to negotiate with:
 * `failed` if it failed or never connected, else `reconnecting`.
 * @param {RTCPeerConnectionState} state @param {boolean} everConnected
 * @returns {Badge}
 */
export function unreachableBadge(state, everConnected) {
  return state === 'failed' || !everConnected ? 'failed' : 'reconnecting';
}

/**
 * The badge once connected: the route when the stats know it, `direct`
 * until then.
 * @param {'direct' | 'relayed' | ''} route
 * @returns {Badge}
 */
export function connectedBadge(route) {
  return route || 'direct';
}
