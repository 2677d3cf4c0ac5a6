// The shape of the web client (docs/client.md, "Layers"): no file under
// web/ over MAX_LINES lines; web/js in layers whose imports only point
// down (util < transport < e2ee < call < features < views < the page
// scripts at the top), every import resolving to a file, no module in an
// import circle; the DOM only in views/; every script a page loads exists.
// Imports are read from the text: static and dynamic imports, JSDoc
// import() types, and worker URLs (new URL('...', import.meta.url)).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const JS = join(WEB, 'js');
export const MAX_LINES = 600;
/** web/js's folders, bottom first; the files directly in web/js (main.js, testhook.js) are above all. */
export const LAYERS = ['util', 'transport', 'e2ee', 'call', 'features', 'views'];
const TOP = LAYERS.length;
/** The layer whose modules may touch the DOM. */
const DOM_LAYER = 'views';

/** @param {string} dir @returns {string[]} */
const walk = (dir) => readdirSync(dir).flatMap((f) => {
  const p = join(dir, f);
  return statSync(p).isDirectory() ? walk(p) : [p];
});

/** The layer of a file under web/js: its folder's rank, or TOP for the page scripts. @param {string} file */
export function rankOf(file) {
  const parts = relative(JS, file).split(sep);
  if (parts.length === 1) return TOP;
  const i = LAYERS.indexOf(parts[0]);
  return i < 0 ? -1 : i;
}

/**
 * The text of a module with comments, strings and template text blanked
 * (line breaks kept), so that what is left is code. Regular expression
 * literals are told from division by what precedes them.
 * @param {string} src
 */
export function codeOf(src) {
  let out = '';
  let i = 0;
  /** @type {number[]} brace depth at which each open template's `${` began */
  const templates = [];
  let depth = 0;
  let prev = ''; // last significant character of code
  const blank = (s) => s.replace(/[^\n]/g, ' ');
  const regexCanStart = () => prev === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prev) ||
    /\b(return|typeof|case|in|of|void|delete|throw|new)\s*$/.test(out);
  while (i < src.length) {
    const c = src[i];
    const d = src[i + 1];
    if (c === '/' && d === '/') {
      const end = src.indexOf('\n', i);
      const stop = end < 0 ? src.length : end;
      out += blank(src.slice(i, stop));
      i = stop;
    } else if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      out += blank(src.slice(i, stop));
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      out += c + blank(src.slice(i + 1, j)) + c;
      i = j + 1;
      prev = c;
    } else if (c === '`' || (c === '}' && templates.length && templates.at(-1) === depth)) {
      // Template text, up to the closing backtick or the next `${`.
      if (c === '}') templates.pop();
      let j = i + 1;
      while (j < src.length && src[j] !== '`' && !(src[j] === '$' && src[j + 1] === '{')) j += src[j] === '\\' ? 2 : 1;
      out += c + blank(src.slice(i + 1, j));
      if (src[j] === '`') { out += '`'; i = j + 1; } else { out += '${'; templates.push(depth); i = j + 2; }
      prev = '`';
    } else if (c === '/' && regexCanStart()) {
      let j = i + 1;
      let cls = false;
      while (j < src.length && src[j] !== '\n' && (cls || src[j] !== '/')) {
        if (src[j] === '\\') j += 1;
        else if (src[j] === '[') cls = true;
        else if (src[j] === ']') cls = false;
        j += 1;
      }
      out += '/' + blank(src.slice(i + 1, j)) + '/';
      i = j + 1;
      prev = '/';
    } else {
      if (c === '{') depth += 1;
      if (c === '}') depth -= 1;
      if (!/\s/.test(c)) prev = c;
      out += c;
      i += 1;
    }
  }
  return out;
}

/**
 * What a module imports: its static and dynamic imports, JSDoc import()
 * types and worker URLs, as written.
 * @param {string} src
 * @returns {string[]}
 */
export function importsOf(src) {
  const specs = [];
  for (const re of [
    /^\s*import\s+(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm, // import x from '…', import '…'
    /^\s*export\s+[^'"]*?\sfrom\s+['"]([^'"]+)['"]/gm, // export … from '…'
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g, // import('…'), in code or in JSDoc
    /new\s+URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g, // worker URLs
  ]) {
    for (const m of src.matchAll(re)) specs.push(m[1]);
  }
  return specs;
}

/** DOM APIs: what a module outside views/ must not name in its code. */
export const DOM_RE = new RegExp(`\\b(${[
  'document', 'createElement', 'createElementNS', 'getElementById', 'getElementsBy\\w+', 'querySelector', 'querySelectorAll',
  'innerHTML', 'outerHTML', 'insertAdjacent\\w+', 'textContent', 'classList', 'dataset', 'Element', 'HTML\\w*Element',
  'SVG\\w*Element', 'DocumentFragment', 'ResizeObserver', 'MutationObserver', 'IntersectionObserver',
  'getComputedStyle', 'customElements', 'DOMParser', 'Option', 'Image',
].join('|')})\\b`);

/** DOM types in JSDoc: a module outside views/ does not hold DOM objects either. */
export const DOM_TYPE_RE = /\{[^}]*\b(HTML\w*Element|SVG\w*Element|Element|Document|DocumentFragment)\b[^}]*\}/;

const jsFiles = walk(JS).filter((f) => f.endsWith('.js'));

/**
 * Every rule broken in the files given ({path: text}), as messages.
 * @param {Map<string, string>} files  absolute path under web/js -> text
 */
export function layoutProblems(files) {
  const problems = [];
  /** @type {Map<string, string[]>} */
  const graph = new Map();
  for (const [file, text] of files) {
    const name = relative(JS, file);
    const rank = rankOf(file);
    if (rank < 0) problems.push(`${name}: not in a layer (${LAYERS.join(', ')})`);
    const deps = [];
    for (const spec of importsOf(text)) {
      if (!spec.startsWith('.')) {
        problems.push(`${name}: imports ${spec}, not a relative path`);
        continue;
      }
      const target = resolve(dirname(file), spec);
      const tname = relative(JS, target);
      if (tname.startsWith('..') || !files.has(target)) {
        problems.push(`${name}: imports ${spec}, which is not a module of web/js`);
        continue;
      }
      deps.push(target);
      if (rankOf(target) > rank) problems.push(`${name}: imports ${tname}, a layer above it`);
    }
    graph.set(file, deps);
    if (name.split(sep)[0] !== DOM_LAYER) {
      const code = codeOf(text).split('\n');
      code.forEach((line, n) => {
        const m = DOM_RE.exec(line);
        if (m) problems.push(`${name}:${n + 1}: names the DOM (${m[1]}) outside ${DOM_LAYER}/`);
      });
      text.split('\n').forEach((line, n) => {
        const m = /^\s*(\/\*\*|\*).*@(?:type|param|returns|typedef)/.test(line) && DOM_TYPE_RE.exec(line);
        if (m) problems.push(`${name}:${n + 1}: a DOM type (${m[1]}) outside ${DOM_LAYER}/`);
      });
    }
  }
  // Circles: a module reached again from itself.
  const state = new Map();
  /** @param {string} f @param {string[]} path */
  const visit = (f, path) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      problems.push(`import circle: ${[...path.slice(path.indexOf(f)), f].map((p) => relative(JS, p)).join(' -> ')}`);
      return;
    }
    state.set(f, 'open');
    for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f, []);
  return problems;
}

test(`no file under web/ is over ${MAX_LINES} lines`, () => {
  const long = walk(WEB).filter((f) => !/\.(png|jpe?g|webp|gif|ico|woff2?)$/i.test(f))
    .map((f) => [relative(WEB, f), readFileSync(f, 'utf8').split('\n').length - 1])
    .filter(([, n]) => n > MAX_LINES);
  assert.deepEqual(long, []);
});

test('web/js: imports point down the layers, resolve, and make no circle; the DOM only in views/', () => {
  assert.ok(jsFiles.length > 40);
  const files = new Map(jsFiles.map((f) => [f, readFileSync(f, 'utf8')]));
  assert.deepEqual(layoutProblems(files), []);
});

test('every script a page loads is there', () => {
  for (const page of readdirSync(WEB).filter((f) => f.endsWith('.html'))) {
    for (const m of readFileSync(join(WEB, page), 'utf8').matchAll(/<script[^>]*\ssrc="([^"]+)"/g)) {
      assert.ok(existsSync(join(WEB, m[1])), `${page}: ${m[1]}`);
    }
  }
});

test('the check itself: it finds an upward import, a missing module, a circle, the DOM outside views, a long file', () => {
  const at = (p) => join(JS, p);
  const files = new Map([
    [at('util/a.js'), "import { x } from '../call/b.js';\n"],
    [at('call/b.js'), "/** @typedef {import('./c.js').T} T */\nexport const s = `${document.title}`;\n"],
    [at('call/c.js'), "import './b.js';\nimport './gone.js';\nconst re = /document/; // document\nconst t = 'document';\n"],
    [at('features/d.js'), '/** @param {HTMLElement} el */\nexport function f(el) { return el; }\n'],
    [at('views/e.js'), "import { f } from '../features/d.js';\ndocument.body.append(f(document.createElement('p')));\n"],
  ]);
  const p = layoutProblems(files);
  const has = (re) => assert.ok(p.some((x) => re.test(x)), `${re} in ${JSON.stringify(p, null, 1)}`);
  has(/^util\/a\.js: imports call\/b\.js, a layer above it/);
  has(/^call\/c\.js: imports \.\/gone\.js, which is not a module/);
  has(/^import circle: call\/b\.js -> call\/c\.js -> call\/b\.js|^import circle: call\/c\.js -> call\/b\.js -> call\/c\.js/);
  has(/^call\/b\.js:2: names the DOM \(document\)/);
  has(/^features\/d\.js:1: a DOM type \(HTMLElement\)/);
  assert.ok(!p.some((x) => /^call\/c\.js:\d+: names the DOM/.test(x)), 'a regex, a comment and a string are not code');
  assert.ok(!p.some((x) => x.startsWith('views/')), 'views may touch the DOM and import features');
  assert.equal(rankOf(at('main.js')), LAYERS.length);
});
