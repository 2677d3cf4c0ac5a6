// @ts-check
// admin-api.js: what the operator's dashboard (/admin) asks of this
// server's admin API: rooms (list, inspect, configure, close, kick) and
// the experiments report, each with the bearer token the operator typed.
// Same origin, no cookie, no cache. No DOM: views/admin.js shows it.

/**
 * @typedef {{max_peers: number | null, locked: boolean, expires_at: number | null, title: string | null}} RoomConfig
 * @typedef {{id: string, peers: number, created_at: number | null, configured: boolean,
 *   members?: string[], config?: RoomConfig}} Room
 */

/** A refused or failed call: the HTTP status (0: no answer), the API's code, a sentence to show. */
export class AdminError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class AdminApi {
  /** @param {string} token  the admin token, as typed */
  constructor(token) {
    this.token = token;
  }

  /**
   * One call; resolves to the JSON answer, rejects with an AdminError.
   * @param {string} method @param {string} path @param {unknown} [body]
   */
  async call(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let r;
    try {
      r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
    } catch {
      throw new AdminError(0, 'unreachable', 'The server did not answer.');
    }
    const text = await r.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: said below when it matters */
    }
    if (r.status === 401) throw new AdminError(401, 'unauthorized', 'That token was refused.');
    if (!r.ok) throw new AdminError(r.status, json?.error ?? 'error', json?.message ?? `The server answered ${r.status}.`);
    return json;
  }

  /** @returns {Promise<Room[]>} */
  rooms() { return this.call('GET', '/api/rooms'); }

  /** @param {string} id @returns {Promise<Room>} */
  room(id) { return this.call('GET', `/api/rooms/${id}`); }

  /** The whole config of room `id` (a PUT replaces it). @param {string} id @param {RoomConfig} config @returns {Promise<Room>} */
  configure(id, config) { return this.call('PUT', `/api/rooms/${id}`, config); }

  /** Forgets its config and closes it: everyone in it is disconnected. @param {string} id @returns {Promise<{id: string, closed_peers: number}>} */
  close(id) { return this.call('DELETE', `/api/rooms/${id}`); }

  /** @param {string} id @param {string} peer */
  kick(id, peer) { return this.call('POST', `/api/rooms/${id}/kick`, { peer }); }

  experiments() { return this.call('GET', '/api/experiments'); }
}
