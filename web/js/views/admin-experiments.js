// @ts-check
// admin-experiments.js: the experiments report on the operator's
// dashboard (/admin; views/admin.js asks for it). One table per experiment
// (visitors, conversions, rate with 95% Wilson interval, p-value against
// the first variant, the sample-ratio check) and an SVG chart of daily
// rates with their intervals. No library, no CDN.

import { wilson } from '../util/wilson.js';

const COLORS = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#0891b2', '#ca8a04'];
const SVGNS = 'http://www.w3.org/2000/svg';

/**
 * @typedef {{conversions: number, rate: number|null, ci95: [number, number]|null, z: number|null, p_value: number|null}} GoalStat
 * @typedef {{name: string, weight?: number, visitors: number, goals: Record<string, GoalStat>}} VariantStat
 * @typedef {{day: string, variants: Record<string, {visitors?: number, goals?: Record<string, number>}>}} Day
 * @typedef {{name: string, running: boolean, goals: string[], srm: {chi2: number, p_value: number, mismatch: boolean} | null,
 *   variants: VariantStat[], daily: Day[]}} Experiment
 * @typedef {{unit: string, today: string, experiments: Experiment[]}} Report
 */

/** @param {string} tag @param {Record<string,string>} [attrs] @param {(Node|string)[]} [kids] */
function el(tag, attrs = {}, kids = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}

/** @param {string} tag @param {Record<string,string|number>} attrs */
function svg(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** @param {number|null|undefined} x */
const pct = (x) => (x == null ? '–' : `${(x * 100).toFixed(2)}%`);
/** @param {number|null|undefined} p */
const pval = (p) => (p == null ? '–' : p < 0.0001 ? '< 0.0001' : p.toFixed(4));

/** @param {Experiment} ex @param {string} goal */
function chart(ex, goal) {
  const W = 640, H = 240, L = 48, R = 12, T = 12, B = 36;
  const days = ex.daily.map((d) => d.day);
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-label': `Daily ${goal} rate per variant with 95% intervals` });
  if (!days.length) return s;
  const series = ex.variants.map((v) => ex.daily.map((d) => {
    const c = d.variants[v.name] ?? {};
    const n = c.visitors ?? 0;
    const k = c.goals?.[goal] ?? 0;
    return n ? { rate: k / n, ...wilson(k, n) } : null;
  }));
  const top = Math.max(0.01, ...series.flat().map((p) => (p ? p.hi : 0)));
  const x = (/** @type {number} */ i) => L + (days.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (days.length - 1));
  const y = (/** @type {number} */ r) => T + (1 - r / top) * (H - T - B);
  for (const f of [0, 0.5, 1]) {
    s.append(svg('line', { x1: L, x2: W - R, y1: y(top * f), y2: y(top * f), stroke: '#8886', 'stroke-width': 1 }));
    const t = svg('text', { x: 4, y: y(top * f) + 4 });
    t.textContent = pct(top * f);
    s.append(t);
  }
  days.forEach((d, i) => {
    if (days.length > 8 && i % Math.ceil(days.length / 8)) return;
    const t = svg('text', { x: x(i) - 28, y: H - 12 });
    t.textContent = d;
    s.append(t);
  });
  series.forEach((pts, vi) => {
    const color = COLORS[vi % COLORS.length];
    const off = (vi - (series.length - 1) / 2) * 4;
    let path = '';
    pts.forEach((p, i) => {
      if (!p) return;
      s.append(svg('line', { x1: x(i) + off, x2: x(i) + off, y1: y(p.lo), y2: y(p.hi), stroke: color, 'stroke-width': 2, opacity: 0.5 }));
      s.append(svg('circle', { cx: x(i) + off, cy: y(p.rate), r: 3.5, fill: color }));
      path += `${path ? 'L' : 'M'}${x(i) + off},${y(p.rate)}`;
    });
    if (path) s.append(svg('path', { d: path, fill: 'none', stroke: color, 'stroke-width': 1.5 }));
  });
  return s;
}

/** @param {Experiment} ex */
function experimentView(ex) {
  // Wide tables scroll sideways on a phone: the box takes the keyboard
  // focus so that it can be scrolled without a pointer, and is named by
  // its heading.
  const id = `exp-${ex.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const box = el('section', { class: `exp${ex.running ? '' : ' stopped'}`, tabindex: '0', 'aria-labelledby': id });
  box.append(el('h3', { id }, [ex.name, ex.running ? '' : ' (stopped: counts kept)']));
  if (ex.srm) {
    box.append(el('p', { class: ex.srm.mismatch ? 'flag' : 'ok' }, [ex.srm.mismatch
      ? `Sample ratio mismatch: the split of visitors does not match the weights (χ² = ${ex.srm.chi2.toFixed(2)}, p = ${pval(ex.srm.p_value)}). Check the split before trusting any result.`
      : `Split matches the weights (χ² = ${ex.srm.chi2.toFixed(2)}, p = ${pval(ex.srm.p_value)}).`]));
  }
  const head = el('tr', {}, [el('th', {}, ['variant']), el('th', {}, ['weight']), el('th', {}, ['visitors'])]);
  for (const g of ex.goals) {
    head.append(el('th', {}, [`${g}`]), el('th', {}, ['rate']), el('th', {}, ['95% interval']), el('th', {}, ['p vs first']));
  }
  const table = el('table', {}, [el('caption', {}, ['Totals over all days']), el('thead', {}, [head])]);
  const body = el('tbody');
  ex.variants.forEach((v, vi) => {
    const row = el('tr', {}, [
      el('td', {}, [el('span', { class: `swatch c${vi % COLORS.length}` }), v.name]),
      el('td', {}, [v.weight == null ? '–' : String(v.weight)]),
      el('td', {}, [String(v.visitors)]),
    ]);
    for (const g of ex.goals) {
      const st = v.goals[g];
      const first = ex.variants[0].goals[g];
      const sig = vi > 0 && st?.p_value != null && st.p_value < 0.05 && st.rate != null && first?.rate != null;
      const cls = sig ? ((st.rate ?? 0) > (first.rate ?? 0) ? 'better' : 'worse') : '';
      row.append(
        el('td', {}, [String(st?.conversions ?? 0)]),
        el('td', { class: cls }, [pct(st?.rate)]),
        el('td', {}, [st?.ci95 ? `${pct(st.ci95[0])} – ${pct(st.ci95[1])}` : '–']),
        // No test without visitors on both sides (the server's p is then meaningless).
        el('td', { class: cls }, [vi === 0 ? 'baseline' : v.visitors === 0 || ex.variants[0].visitors === 0 ? 'no visitors yet' : pval(st?.p_value)]),
      );
    }
    body.append(row);
  });
  table.append(body);
  box.append(table);
  for (const g of ex.goals) {
    box.append(el('h4', {}, [`Daily ${g} rate`]), chart(ex, g));
  }
  return box;
}

/**
 * The report into `out`.
 * @param {HTMLElement} out
 * @param {Report} r
 */
export function renderReport(out, r) {
  out.replaceChildren();
  if (!r.experiments.length) {
    out.append(el('p', {}, ['No experiment is configured, and none has counts.']));
    return;
  }
  out.append(el('p', { class: 'muted' }, [`Unit: ${r.unit}. Today (UTC): ${r.today}.`]));
  for (const ex of r.experiments) out.append(experimentView(ex));
}
