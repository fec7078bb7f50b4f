// Swedish first, English as a switch kept in localStorage.
//
// Static text in the pages carries data-i18n="key" (its Swedish text is in
// the HTML already, so nothing flashes); dynamic text calls t(key, params).
// A page re-renders its dynamic parts on onLanguageChange.

import {MESSAGES} from './messages.js';

const STORAGE_KEY = 'slussen.lang';
const listeners = [];

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

let current = stored() === 'en' ? 'en' : 'sv';

export function lang() {
  return current;
}

// The locale for Intl formatting.
export function locale() {
  return current === 'sv' ? 'sv-SE' : 'en-GB';
}

// The message `key` with {name} placeholders filled from `params`. Falls
// back to Swedish, then to the key itself (so a missing text shows).
export function t(key, params) {
  let text = MESSAGES[current][key];
  if (text === undefined) text = MESSAGES.sv[key];
  if (text === undefined) return key;
  if (typeof text === 'function') return text(params || {});
  if (params) {
    text = text.replace(/\{(\w+)\}/g, (m, name) =>
      params[name] === undefined ? m : String(params[name]));
  }
  return text;
}

// Whether a message exists (for enum labels with fallbacks).
export function has(key) {
  return MESSAGES[current][key] !== undefined || MESSAGES.sv[key] !== undefined;
}

// The label of an enum value such as "REFERRAL_STATE_OFFERED"; the value
// itself when there is none.
export function enumLabel(value) {
  if (!value) return '';
  return has(value) ? t(value) : value;
}

// Translates the static text of `root`: data-i18n sets the text,
// data-i18n-attr="aria-label:key;title:key" sets attributes.
export function applyStatic(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

export function setLanguage(next) {
  current = next === 'en' ? 'en' : 'sv';
  try {
    localStorage.setItem(STORAGE_KEY, current);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  applyStatic();
  for (const fn of listeners) fn(current);
}

export function onLanguageChange(fn) {
  listeners.push(fn);
}
