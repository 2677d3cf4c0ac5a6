#!/usr/bin/env node
// file-transfer.mjs: xroom's file transfer against a plain data channel,
// in one run, between two headless pages of one Chromium on loopback.
//
//   xroom: the file picked on page A, accepted on page B; every chunk
//     sealed (AES-GCM), hashed (SHA-256), written to B's Origin Private
//     File System, then the whole file re-read and checked before it is
//     offered. Timed from Accept to "verified" on B.
//   plain: the same bytes (read from the same File on A) over a bare,
//     unencrypted RTCPeerConnection data channel in two other pages, in
//     256 KiB messages with bufferedAmountLowThreshold back-pressure, B
//     only counting bytes (not storing them). Timed from the first send
//     to the last byte counted on B.
//
// Runs alternate (plain, xroom, plain, xroom…) so both see the same
// machine; the call's camera and microphone are off during the runs.
// Prints each run with the CPU time all of Chromium's processes spent on it
// (on Linux; the two idle xroom pages count in the plain runs too), then
// the medians and their ratio, as one JSON line at the end. Run from tests/:
//   node bench/file-transfer.mjs [MiB=256] [runs=3] [chunkKiB]
// chunkKiB sets xroom's chunk size for this run (the shipped one is 64).

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinPage, launch, openPage, roomLink, sleep, startDaemon, waitFor } from '../browser/util.mjs';
import { writeRandomFile } from './random-file.mjs';
import { median } from './figures.mjs';

const MIB = Number(process.argv[2] ?? 256);
const RUNS = Number(process.argv[3] ?? 3);
const CHUNK_KIB = Number(process.argv[4] ?? 0);
const SIZE = MIB * 1024 * 1024;
const PLAIN_MESSAGE = 256 * 1024;

/**
 * CPU seconds (user + system) so far of every Chromium process, by kind:
 * renderer, browser, network (the network service, where WebRTC's UDP
 * sockets live), other. Linux only (/proc); empty elsewhere.
 */
function chromiumCpu() {
  const out = { renderer: 0, browser: 0, network: 0, other: 0 };
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    let cmd;
    let stat;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (!cmd.includes('chromium')) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const secs = (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks
    const type = /--type=([a-z-]+)/.exec(cmd)?.[1];
    if (!type) out.browser += secs;
    else if (type === 'renderer') out.renderer += secs;
    else if (/NetworkService/.test(cmd)) out.network += secs;
    else out.other += secs;
  }
  return out;
}

/** What a run cost, as one line: CPU seconds per kind of process. */
function cpuLine(before, after) {
  const d = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]));
  const total = Object.values(d).reduce((a, b) => a + b, 0);
  return `cpu ${total.toFixed(1)} s (renderers ${d.renderer.toFixed(1)}, browser ${d.browser.toFixed(1)}, network ${d.network.toFixed(1)}, other ${d.other.toFixed(1)})`;
}


/** Plain: a bare connection between two pages, signaled through Node. */
async function plainRun(pa, pb, path) {
  await pa.setInputFiles('#bench-file', path);
  await pb.evaluate(() => {
    window.pc = new RTCPeerConnection();
    window.got = 0;
    window.doneAt = 0;
    window.pc.ondatachannel = (ev) => {
      ev.channel.binaryType = 'arraybuffer';
      ev.channel.onmessage = (m) => {
        window.got += m.data.byteLength;
        if (window.got >= window.want) window.doneAt = performance.now();
      };
    };
  });
  await pb.evaluate((n) => { window.want = n; }, SIZE);
  const offer = await pa.evaluate(async () => {
    window.pc = new RTCPeerConnection();
    window.ch = window.pc.createDataChannel('plain', { ordered: true });
    window.ch.binaryType = 'arraybuffer';
    await window.pc.setLocalDescription();
    await new Promise((r) => { if (window.pc.iceGatheringState === 'complete') r(); else window.pc.onicegatheringstatechange = () => { if (window.pc.iceGatheringState === 'complete') r(); }; });
    return window.pc.localDescription.toJSON();
  });
  const answer = await pb.evaluate(async (o) => {
    await window.pc.setRemoteDescription(o);
    await window.pc.setLocalDescription();
    await new Promise((r) => { if (window.pc.iceGatheringState === 'complete') r(); else window.pc.onicegatheringstatechange = () => { if (window.pc.iceGatheringState === 'complete') r(); }; });
    return window.pc.localDescription.toJSON();
  }, offer);
  await pa.evaluate(async (a) => {
    await window.pc.setRemoteDescription(a);
    if (window.ch.readyState !== 'open') await new Promise((r) => { window.ch.onopen = r; });
  }, answer);
  // Both clocks are performance.now() of pages in one browser: compare
  // through Date.now() offsets instead, measured once per page.
  const startWall = await pa.evaluate(async (msg) => {
    const file = document.getElementById('bench-file').files[0];
    const ch = window.ch;
    ch.bufferedAmountLowThreshold = 1024 * 1024;
    const t0 = Date.now();
    for (let at = 0; at < file.size; at += 8 * 1024 * 1024) {
      const block = new Uint8Array(await file.slice(at, at + 8 * 1024 * 1024).arrayBuffer());
      for (let i = 0; i < block.length; i += msg) {
        if (ch.bufferedAmount > 4 * 1024 * 1024) await new Promise((r) => { ch.onbufferedamountlow = r; });
        ch.send(block.subarray(i, i + msg));
      }
    }
    return t0;
  }, PLAIN_MESSAGE);
  const endWall = await pb.evaluate(async () => {
    while (!window.doneAt) await new Promise((r) => setTimeout(r, 5));
    return Date.now() - (performance.now() - window.doneAt);
  });
  await pa.evaluate(() => window.pc.close());
  await pb.evaluate(() => window.pc.close());
  return (endWall - startWall) / 1000;
}

/** xroom: the real client, picker to verified. */
async function xroomRun(a, b, path, name) {
  await a.page.setInputFiles('#file-input', path);
  const dialog = a.page.getByRole('dialog', { name: 'Send files' });
  await dialog.getByRole('button', { name: 'Send', exact: true }).click();
  if (await b.page.locator('#chat').isHidden()) await b.page.getByRole('button', { name: /^Chat/ }).click();
  await b.page.getByRole('button', { name: `Accept ${name}` }).last().click();
  let verifyingAt = 0;
  const t = await waitFor(async () => {
    const x = (await b.page.evaluate(() => window.xroomTest.files())).transfers.at(-1);
    if (x.state === 'failed') throw new Error(`failed: ${x.reason}`);
    if (x.state === 'verifying' && !verifyingAt) verifyingAt = Date.now();
    if (x.state === 'done' && verifyingAt) console.log(`  (the re-read check took about ${((Date.now() - verifyingAt) / 1000).toFixed(1)} s)`);
    return x.state === 'done' && x;
  }, { timeout: 600000, interval: 100, what: 'xroom transfer done' });
  // Free B's storage for the next run.
  await b.page.evaluate(() => window.xroomTest.dismissFiles());
  return { seconds: t.ms / 1000, resent: t.resentBytes };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'xroom-bench-ft-'));
  const name = `bench-${MIB}MiB.bin`;
  const path = join(dir, name);
  let browser;
  let daemon;
  try {
    const sha = await writeRandomFile(path, SIZE);
    browser = await launch();
    daemon = await startDaemon({});
    const link = roomLink();
    const a = await joinPage(browser, daemon, link, { name: 'Sender' });
    const b = await joinPage(browser, daemon, link, { name: 'Receiver' });
    // Camera and microphone off in the call: video encoding and decoding
    // would take most of the two cores from both kinds of run.
    for (const p of [a, b]) {
      await p.page.locator('#btn-cam').click();
      await p.page.locator('#btn-mic').click();
    }
    if (CHUNK_KIB) await a.page.evaluate((n) => window.xroomTest.fileChunk(n), CHUNK_KIB * 1024);
    await waitFor(async () => (await a.page.evaluate(() => window.xroomTest.chat()))?.open.length === 1, { timeout: 30000 });
    // Two more pages for the plain channel (same origin, no room).
    const pa = (await openPage(browser, daemon, '/privacy')).page;
    const pb = (await openPage(browser, daemon, '/privacy')).page;
    await pa.evaluate(() => {
      const i = document.createElement('input');
      i.type = 'file';
      i.id = 'bench-file';
      document.body.append(i);
    });
    const plain = [];
    const xroom = [];
    for (let r = 0; r < RUNS; r++) {
      let cpu = chromiumCpu();
      const p = await plainRun(pa, pb, path);
      plain.push(MIB / p);
      console.log(`run ${r + 1}: plain ${p.toFixed(2)} s = ${(MIB / p).toFixed(1)} MiB/s; ${cpuLine(cpu, chromiumCpu())}`);
      await sleep(500);
      cpu = chromiumCpu();
      const x = await xroomRun(a, b, path, name);
      xroom.push(MIB / x.seconds);
      console.log(`run ${r + 1}: xroom ${x.seconds.toFixed(2)} s = ${(MIB / x.seconds).toFixed(1)} MiB/s (resent ${x.resent} B); ${cpuLine(cpu, chromiumCpu())}`);
      await sleep(500);
    }
    const result = {
      mib: MIB, runs: RUNS, chunkKiB: CHUNK_KIB || 64, sha256: sha.slice(0, 16),
      plainMiBps: Number(median(plain).toFixed(1)), xroomMiBps: Number(median(xroom).toFixed(1)),
      ratio: Number((median(xroom) / median(plain)).toFixed(2)),
    };
    console.log(JSON.stringify(result));
  } finally {
    await browser?.close();
    await daemon?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
