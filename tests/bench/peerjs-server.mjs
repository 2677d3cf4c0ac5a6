// peerjs-server.mjs: the PeerJS server (npm `peer`, a dev dependency) on
// loopback, as the baseline of the relay benchmarks (tests/bench/relay-vs-peerjs.sh).
// Its limits are lifted so that they do not decide the comparison: up to
// 100,000 clients (default 5,000) and no heartbeat expiry during a run
// (the generator sends none). Prints "listening PORT" once it accepts.
//   usage: node tests/bench/peerjs-server.mjs [PORT]
import { PeerServer } from 'peer';

const port = Number(process.argv[2] ?? 9000);
PeerServer({
  host: '127.0.0.1',
  port,
  path: '/',
  concurrent_limit: 100000,
  alive_timeout: 3600 * 1000,
  allow_discovery: false,
}, () => console.log(`listening ${port}`));
