// Hand-written SVG bar charts (no library: a few dozen lines do, and
// nothing is loaded from outside). Horizontal bars, one group per category;
// the second series is hatched as well as coloured, so the series differ
// without colour. The chart is an image with a title and a description;
// the same numbers are always in a table beside it.

const NS = 'http://www.w3.org/2000/svg';
let counter = 0;

function el(tag, attrs, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  for (const c of children) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}

// series: [{name, values: [number per category]}]; format(value) → text.
export function barChart({title, description, categories, series, format = String}) {
  counter += 1;
  const id = `chart-${counter}`;
  const labelWidth = 260;
  const barHeight = 16;
  const gap = 10;
  const width = 760;
  const plot = width - labelWidth - 90;
  const groupHeight = series.length * barHeight + gap;
  const height = categories.length * groupHeight + 20;
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v || 0)));
  const fills = ['#0b4f7c', `url(#${id}-hatch)`];

  const svg = el('svg', {viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`, focusable: 'false'},
  el('title', {id: `${id}-title`}, title),
  el('desc', {id: `${id}-desc`}, description || title),
  el('defs', null, el('pattern', {id: `${id}-hatch`, width: 6, height: 6,
    patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)'},
  el('rect', {width: 6, height: 6, fill: '#ffffff'}),
  el('rect', {width: 3, height: 6, fill: '#c25e00'}))));

  categories.forEach((category, i) => {
    const y0 = i * groupHeight + 10;
    const text = category.length > 38 ? `${category.slice(0, 37)}…` : category;
    svg.appendChild(el('text', {x: labelWidth - 8, y: y0 + (series.length * barHeight) / 2 + 4,
      'text-anchor': 'end'}, text));
    series.forEach((s, j) => {
      const value = s.values[i] || 0;
      const w = Math.max(1, (value / max) * plot);
      const y = y0 + j * barHeight;
      svg.appendChild(el('rect', {x: labelWidth, y, width: w, height: barHeight - 3,
        fill: fills[j % fills.length], stroke: '#1b1f24', 'stroke-width': 0.5}));
      svg.appendChild(el('text', {x: labelWidth + w + 6, y: y + barHeight - 5}, format(value)));
    });
  });
  svg.appendChild(el('line', {x1: labelWidth, x2: labelWidth, y1: 4, y2: height - 4,
    stroke: '#1b1f24', 'stroke-width': 1}));

  const figure = document.createElement('figure');
  figure.className = 'chart';
  figure.appendChild(svg);
  if (series.length > 1) {
    const legend = document.createElement('figcaption');
    legend.className = 'legend';
    series.forEach((s, j) => {
      const item = document.createElement('span');
      const swatch = document.createElement('span');
      swatch.className = `swatch ${j === 0 ? 'a' : 'b'}`;
      swatch.setAttribute('aria-hidden', 'true');
      item.append(swatch, s.name);
      legend.appendChild(item);
    });
    figure.appendChild(legend);
  }
  return figure;
}
