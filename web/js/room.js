// @ts-check
// room.js: the minimal room page of the daemon's first version. It joins the
// room of the URL over the signaling socket and lists who is there. The full
// client (media, E2EE, chat) replaces it.

const statusEl = /** @type {HTMLElement} */ (document.getElementById('status'));
const list = /** @type {HTMLElement} */ (document.getElementById('peers'));
const roomId = location.pathname.split('/')[2] ?? '';
/** @type {Set<string>} */
const peers = new Set();

function render() {
  list.replaceChildren(...[...peers].map((id) => {
    const li = document.createElement('li');
    li.textContent = id;
    return li;
  }));
}

const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
const ws = new WebSocket(`${scheme}//${location.host}/ws/${roomId}`, 'xroom.v1');
ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'join' })));
ws.addEventListener('message', (ev) => {
  const msg = JSON.parse(ev.data);
  if (msg.type === 'welcome') {
    statusEl.textContent = `In the room as ${msg.id}.`;
    for (const id of msg.peers) peers.add(id);
  } else if (msg.type === 'peer-joined') {
    peers.add(msg.id);
  } else if (msg.type === 'peer-left') {
    peers.delete(msg.id);
  } else if (msg.type === 'error') {
    statusEl.textContent = `Cannot join: ${msg.message}`;
  }
  render();
});
ws.addEventListener('close', () => { statusEl.textContent = 'Disconnected.'; });
