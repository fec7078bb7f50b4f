// Small helpers to build DOM without innerHTML (so no value from the server
// is ever parsed as markup) and without inline styles (the CSP forbids them).

// h('p', {class: 'x', id: 'y', onclick: fn}, 'text', child, [children])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2), value);
      } else if (key === 'class') {
        el.className = value;
      } else if (key === 'dataset') {
        Object.assign(el.dataset, value);
      } else if (value === true) {
        el.setAttribute(key, '');
      } else {
        el.setAttribute(key, String(value));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) {
      append(el, child);
    } else if (child instanceof Node) {
      el.appendChild(child);
    } else {
      el.appendChild(document.createTextNode(String(child)));
    }
  }
}

const SCOPES = ['offer', 'referral', 'clock', 'offering', 'cohort', 'action'];

// Where the focus is inside `el`, in terms that survive a re-render: the
// data-* of its nearest scope and the control's own tag, name and class.
function focusKey(el) {
  const active = document.activeElement;
  if (!active || active === document.body || !el.contains(active)) return null;
  const scopeSelector = SCOPES.map((s) => `[data-${s}]`).join(',');
  const scopes = [];
  for (let node = active.closest(scopeSelector); node && el.contains(node);
    node = node.parentElement && node.parentElement.closest(scopeSelector)) {
    const name = SCOPES.find((s) => node.dataset[s] !== undefined);
    scopes.unshift(`[data-${name}="${CSS.escape(node.dataset[name])}"]`);
  }
  let own = active.tagName.toLowerCase();
  if (active.name) own += `[name="${CSS.escape(active.name)}"]`;
  if (active.value && (active.type === 'radio' || active.type === 'checkbox')) {
    own += `[value="${CSS.escape(active.value)}"]`;
  }
  if (active.classList.length) own += `.${[...active.classList].map((c) => CSS.escape(c)).join('.')}`;
  return [...scopes, own].join(' ');
}

// Replaces the children of `el`; focus inside it stays on the same control
// when it is still there (a live update must not throw a keyboard user out).
export function replace(el, ...children) {
  const key = focusKey(el);
  el.replaceChildren();
  append(el, children);
  if (key) {
    const again = el.querySelector(key);
    if (again) again.focus();
  }
  return el;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $all(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

let idCounter = 0;
// A fresh id for labels, descriptions and error messages.
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// Wraps a fetch-and-render `fn(isLatest)` so that only the latest call's
// answer is shown: an older answer arriving late (a live event and a timer
// racing) would show stale data. `fn` calls isLatest() after each await.
export function latestOnly(fn) {
  let latest = 0;
  return (...args) => {
    latest += 1;
    const mine = latest;
    return fn(() => mine === latest, ...args);
  };
}

// Waits `ms` after the last call before calling `fn` (used to re-fetch a
// list once after a burst of events).
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// The last path segment of a resource name: "regions/13/referrals/01AB" →
// "01AB".
export function lastSegment(name) {
  if (!name) return '';
  const parts = String(name).split('/');
  return parts[parts.length - 1];
}

// A short form of a referral id for people: its last 8 characters.
export function shortId(name) {
  const id = lastSegment(name);
  return id.length > 8 ? `…${id.slice(-8)}` : id;
}

// Downloads `text` as a file (CSV) without a server round trip.
export function download(filename, text, type = 'text/csv;charset=utf-8') {
  const blob = new Blob(['\ufeff', text], {type});
  const url = URL.createObjectURL(blob);
  // The link goes at once: left in the page, it would be a link without
  // words for a screen reader (and for axe) until the URL is revoked.
  const a = h('a', {href: url, download: filename, class: 'visually-hidden'});
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
