#!/usr/bin/env node
// file-transfer-big.mjs: one multi-gigabyte file through xroom, to show
// that neither tab holds it in memory and that it arrives intact.
//
// Two Chromiums, each with its own ordinary (persistent, not incognito)
// profile in a temporary folder: a private window keeps the Origin Private
// File System in memory and Chromium then refuses files above about 1 GiB
// ("Not enough space"), which is what a user of a private window gets too.
// Page A sends a file of random bytes, page B accepts it; every 5 s the
// progress, the rate and the largest resident memory of any renderer are
// printed; at the end B's Save link is downloaded and its SHA-256 compared
// with the file's. Run from tests/:
//   node bench/file-transfer-big.mjs [GiB=3]

import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, roomLink, sleep, startDaemon, waitFor } from '../browser/util.mjs';
import { writeRandomFile } from './random-file.mjs';

const GIB = Number(process.argv[2] ?? 3);
const SIZE = Math.round(GIB * 1024 * 1024 * 1024);
const MIB = 1024 * 1024;

async function hashFile(path) {
  const hash = createHash('sha256');
  for await (const b of createReadStream(path, { highWaterMark: 8 * MIB })) hash.update(b);
  return hash.digest('hex');
}

/** The largest resident set of any Chromium renderer now, in MiB (Linux /proc). */
function maxRendererRss() {
  let max = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      max = Math.max(max, kib / 1024);
    } catch {
      // gone meanwhile
    }
  }
  return max;
}

/** An ordinary profile in `dir`, in the room at `link` under `name`, camera and microphone off. */
async function joinRoom(dir, daemon, link, name) {
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, acceptDownloads: true,
    viewport: { width: 1280, height: 720 },
  });
  await context.addInitScript((n) => {
    if (!localStorage.getItem('xroom.profile')) localStorage.setItem('xroom.profile', JSON.stringify({ name: n }));
  }, name);
  const page = context.pages()[0] ?? await context.newPage();
  await page.goto(`${daemon.origin}${link}`);
  await page.getByRole('button', { name: 'Join', exact: true }).click({ timeout: 15000 });
  await page.locator('#screen-call').waitFor({ state: 'visible', timeout: 15000 });
  await page.locator('#btn-cam').click();
  await page.locator('#btn-mic').click();
  return { context, page };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'xroom-bench-big-'));
  const name = `big-${GIB}GiB.bin`;
  const path = join(dir, name);
  let daemon;
  const contexts = [];
  try {
    console.log(`making ${GIB} GiB of random bytes…`);
    const sha = await writeRandomFile(path, SIZE);
    daemon = await startDaemon({});
    const link = roomLink();
    const a = await joinRoom(join(dir, 'profile-a'), daemon, link, 'Sender');
    contexts.push(a.context);
    const b = await joinRoom(join(dir, 'profile-b'), daemon, link, 'Receiver');
    contexts.push(b.context);
    await waitFor(async () => (await a.page.evaluate(() => window.xroomTest.chat()))?.open.length === 1, { timeout: 30000 });
    const before = maxRendererRss();

    await a.page.setInputFiles('#file-input', path);
    await a.page.getByRole('dialog', { name: 'Send files' }).getByRole('button', { name: 'Send', exact: true }).click();
    if (await b.page.locator('#chat').isHidden()) await b.page.getByRole('button', { name: /^Chat/ }).click();
    await b.page.getByRole('button', { name: `Accept ${name}` }).click({ timeout: 30000 });
    const t0 = Date.now();
    let peak = before;
    let lastPrint = 0;
    let t;
    for (;;) {
      t = (await b.page.evaluate(() => window.xroomTest.files())).transfers.at(-1);
      peak = Math.max(peak, maxRendererRss());
      if (t.state === 'failed' || t.state === 'cancelled') throw new Error(`the transfer ended: ${t.state} ${t.reason}`);
      if (t.state === 'done') break;
      if (Date.now() - lastPrint >= 5000) {
        lastPrint = Date.now();
        const done = Math.min(t.size, t.have * (t.size / Math.max(1, t.chunks)));
        const secs = (Date.now() - t0) / 1000;
        console.log(`${secs.toFixed(0).padStart(4)} s  ${(done / MIB).toFixed(0).padStart(6)} MiB  ${(done / MIB / secs).toFixed(1)} MiB/s  largest renderer ${peak.toFixed(0)} MiB  (${t.state})`);
      }
      await sleep(250);
    }
    const secs = t.ms / 1000;
    console.log(`received and verified in ${secs.toFixed(1)} s = ${(SIZE / MIB / secs).toFixed(1)} MiB/s; largest renderer ${peak.toFixed(0)} MiB (${before.toFixed(0)} MiB before)`);

    const save = b.page.getByRole('link', { name: `Save ${name}` }).last();
    const [download] = await Promise.all([b.page.waitForEvent('download'), save.click()]);
    const got = await hashFile(await download.path());
    await download.delete();
    console.log(JSON.stringify({
      gib: GIB, seconds: Number(secs.toFixed(1)), MiBps: Number((SIZE / MIB / secs).toFixed(1)),
      peakRendererMiB: Math.round(peak), idleRendererMiB: Math.round(before), intact: got === sha,
    }));
    if (got !== sha) throw new Error('the saved file differs from the one sent');
  } finally {
    for (const c of contexts) await c.close().catch(() => {});
    await daemon?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
