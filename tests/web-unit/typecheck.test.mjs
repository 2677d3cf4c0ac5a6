// The web client is typed with JSDoc; tsc checks it (tests/jsconfig.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const tests = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(tests, '..', 'web');

test('tsc --noEmit finds no type error in web/js', () => {
  const r = spawnSync(process.execPath, [join(tests, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(tests, 'jsconfig.json')],
    { encoding: 'utf8', cwd: tests });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('every module is // @ts-check, and no file phones out', () => {
  const files = readdirSync(join(web, 'js'), { recursive: true }).filter((f) => f.endsWith('.js'));
  assert.ok(files.length >= 10);
  for (const f of files) {
    const text = readFileSync(join(web, 'js', f), 'utf8');
    assert.match(text, /^\/\/ @ts-check\n/, f);
  }
  const all = [
    ...files.map((f) => join(web, 'js', f)),
    join(web, 'index.html'), join(web, 'room.html'), join(web, 'css', 'app.css'),
  ];
  for (const p of all) {
    const text = readFileSync(p, 'utf8');
    // The SVG namespace is a name, not a request.
    const urls = [...text.matchAll(/\b(?:https?|wss?|stuns?|turns?):\/\/[A-Za-z0-9[][^\s'"`)<]*/g)].map((m) => m[0])
      .filter((u) => u !== 'http://www.w3.org/2000/svg');
    assert.deepEqual(urls, [], p);
  }
});

test('the pages carry no inline script, style or event handler (the CSP would refuse them)', () => {
  for (const f of ['index.html', 'room.html']) {
    const html = readFileSync(join(web, f), 'utf8');
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, `${f}: inline script`);
    assert.doesNotMatch(html, /<style/i, `${f}: style element`);
    assert.doesNotMatch(html, /\sstyle=/i, `${f}: style attribute`);
    assert.doesNotMatch(html, /\son[a-z]+=/i, `${f}: event handler attribute`);
  }
});
