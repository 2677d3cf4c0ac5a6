// @ts-check
// roster.js: everyone the daemon admitted to the room, as it says
// (`welcome`'s peers, `peer-joined`, `peer-left`), beside the connections
// the mesh has. Someone admitted who has not connected for CONNECT_GRACE_MS
// is shown to the people in the call ("1 person joined but has not
// connected"): a member who holds the link and joins silently is seen, not
// hidden behind a count of tiles. The daemon can still hide someone from
// this list; it cannot make them connect unseen. Pure: no DOM.

/** How long a newcomer may take to connect before it is counted as not connected. */
export const CONNECT_GRACE_MS = 15_000;

export class Roster {
  constructor() {
    /** @type {Map<string, number>} peer id -> when we learned of it */
    this.since = new Map();
  }

  /** We joined (or rejoined): these were there. @param {string[]} ids @param {number} now */
  welcome(ids, now) {
    this.since.clear();
    for (const id of ids) this.since.set(id, now);
  }

  /** @param {string} id @param {number} now */
  joined(id, now) {
    if (!this.since.has(id)) this.since.set(id, now);
  }

  /** @param {string} id */
  left(id) {
    this.since.delete(id);
  }

  /**
   * Peer ids admitted over CONNECT_GRACE_MS ago that no connection is bound to.
   * @param {Set<string>} connected  peer ids of our connections
   * @param {number} now
   */
  unconnected(connected, now) {
    let n = 0;
    for (const [id, at] of this.since) if (!connected.has(id) && now - at >= CONNECT_GRACE_MS) n += 1;
    return n;
  }
}

/**
 * What the call bar says about them: '' when none.
 * @param {number} n
 */
export function unconnectedText(n) {
  if (n <= 0) return '';
  return n === 1 ? '· 1 person joined but has not connected' : `· ${n} people joined but have not connected`;
}
