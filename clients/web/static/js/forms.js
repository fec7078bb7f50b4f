// Field errors at the field they name: the broker names a field by its path
// from the request's root ("referral.impulse.kommun_code"); a control (or a
// fieldset for a group) carries that path in data-field. The error is a
// paragraph after the control, tied to it by aria-describedby, with
// aria-invalid set; a summary at the top of the form links to each error.

import {$, $all, h, replace, uid} from './dom.js';
import {lang, t} from './i18n.js';

function describedBy(el, id, add) {
  const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  const next = add ? [...new Set([...ids, id])] : ids.filter((x) => x !== id);
  if (next.length) el.setAttribute('aria-describedby', next.join(' '));
  else el.removeAttribute('aria-describedby');
}

export function clearErrors(form) {
  for (const el of $all('.field-error', form)) {
    for (const owner of $all(`[aria-describedby~="${el.id}"]`, form)) {
      describedBy(owner, el.id, false);
    }
    el.remove();
  }
  for (const el of $all('[aria-invalid]', form)) el.removeAttribute('aria-invalid');
  const summary = $('.error-summary', form);
  if (summary) summary.remove();
}

// The element for `path`: the exact data-field, else the nearest enclosing
// path ("referral.consent.scopes[1].data_categories" → "...scopes").
function findField(form, path) {
  let p = path;
  while (p) {
    const el = form.querySelector(`[data-field="${CSS.escape(p)}"]`);
    if (el && !el.closest('[hidden]')) return el;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) break;
    p = p.slice(0, cut);
  }
  return null;
}

// The control to focus and mark for a field element (a fieldset's first
// control).
function controlOf(el) {
  if (el.matches('input, select, textarea')) return el;
  return el.querySelector('input, select, textarea') || el;
}

// Shows `message` at the field `path`; false when no field has that path.
export function showFieldError(form, path, message) {
  const el = findField(form, path);
  if (!el) return false;
  const id = uid('err');
  const error = h('p', {class: 'field-error', id, dataset: {errorFor: path}}, message);
  if (el.tagName === 'FIELDSET') {
    const legend = el.querySelector('legend');
    if (legend) legend.after(error); else el.prepend(error);
    describedBy(el, id, true);
  } else {
    const wrapper = el.closest('.field') || el.parentElement;
    wrapper.appendChild(error);
  }
  const control = controlOf(el);
  control.setAttribute('aria-invalid', 'true');
  describedBy(control, id, true);
  return true;
}

// The words that name a field: its label, or its fieldset's legend.
function labelOf(fieldEl, control) {
  let text = '';
  if (fieldEl.tagName === 'FIELDSET') {
    const legend = fieldEl.querySelector('legend');
    text = legend ? legend.textContent : '';
  } else if (control && control.labels && control.labels.length) {
    text = control.labels[0].textContent;
  }
  return text.replace(/\s*\*\s*$/, '').trim();
}

// Errors [{field, message}] shown at their fields, with a summary at the
// top of the form that links to each; focus moves to the summary. Errors
// whose field is not on the form are listed in the summary only.
export function showErrors(form, errors) {
  clearErrors(form);
  const items = [];
  for (const {field, message} of errors) {
    const shown = showFieldError(form, field, message);
    const fieldEl = shown ? findField(form, field) : null;
    const control = fieldEl ? controlOf(fieldEl) : null;
    if (control && !control.id) control.id = uid('ctl');
    const label = fieldEl ? labelOf(fieldEl, control) : '';
    const text = label ? `${label}: ${message}` : message;
    items.push(h('li', null, control ?
      h('a', {href: `#${control.id}`, onclick: (e) => {
        e.preventDefault();
        control.focus();
      }}, text) : text));
  }
  const summary = h('div', {class: 'error-summary', tabindex: '-1', role: 'alert'},
    h(form.closest('section') ? 'h3' : 'h2', null, t('error.summary')), h('ul', null, items));
  form.prepend(summary);
  summary.focus();
}

// The broker's rules are written in English; the commonest are said in
// Swedish too (the rest are shown as the broker wrote them).
// ", got "1280"" as ", angivet: "1280"".
const given = (tail) => (tail ? tail.replace(/^, got /, ', angivet: ') : '');

const SWEDISH_RULES = [
  [/^is required\b.*$/s, () => 'måste fyllas i'],
  [/^must lie in the referral's region (\d+).*?(, got .*)?$/s, (m) => `måste ligga i remissens län ${m[1]} (de två första siffrorna)${given(m[2])}`],
  [/^must be four digits.*?(, got .*)?$/s, (m) => `måste vara fyra siffror (SCB:s kommunkod)${given(m[1])}`],
  [/^(looks like|appears to contain) a personnummer.*$/s, () => 'ser ut att innehålla ett personnummer; ange det bara i fältet för personnummer'],
  [/^must not lie in the future.*$/s, () => 'får inte ligga i framtiden'],
  [/^must be (\d+)\.\.(\d+) characters long; it has (\d+).*$/s, (m) => `måste vara ${m[1]}–${m[2]} tecken långt; det har ${m[3]}`],
  [/^must be (-?\d+)\.\.(-?\d+), got (.*)$/s, (m) => `måste vara ${m[1]}–${m[2]}, fick ${m[3]}`],
  [/^has a wrong check digit.*$/s, () => 'har fel kontrollsiffra'],
];

export function ruleInWords(description) {
  if (lang() !== 'sv') return description;
  for (const [re, say] of SWEDISH_RULES) {
    const m = re.exec(description);
    if (m) return say(m);
  }
  return description;
}

// Shows a refusal from the server: its field violations at their fields,
// anything else in plain words in `noticeEl`. Returns true when shown at
// fields.
export function showRpcError(form, err, noticeEl, showNotice) {
  if (err.fieldViolations && err.fieldViolations.length) {
    showErrors(form, err.fieldViolations.map((v) => ({
      field: v.field,
      message: t('error.field.server', {description: ruleInWords(v.description)}),
    })));
    if (noticeEl) replace(noticeEl);
    return true;
  }
  clearErrors(form);
  showNotice(noticeEl, 'error', err);
  return false;
}

// Helpers to build labelled controls. Each returns the wrapper; the control
// has data-field = `field` when given.
export function textField({label, name, field, type = 'text', hint, value = '',
  required = false, textarea = false, inputmode, autocomplete = 'off', cls}) {
  const id = uid(name);
  const hintId = hint ? uid('hint') : null;
  const attrs = {id, name, type: textarea ? undefined : type, value: textarea ? undefined : value,
    'aria-describedby': hintId, 'aria-required': required ? 'true' : undefined,
    inputmode, autocomplete, class: cls, dataset: field ? {field} : undefined};
  const control = textarea ? h('textarea', attrs, value) : h('input', attrs);
  return h('div', {class: 'field'},
    h('label', {for: id}, label, required ? ' *' : ''),
    hint ? h('span', {class: 'hint', id: hintId}, hint) : null,
    control);
}

export function selectField({label, name, field, options, value = '', hint, required = false}) {
  const id = uid(name);
  const hintId = hint ? uid('hint') : null;
  const select = h('select', {id, name, 'aria-describedby': hintId,
    'aria-required': required ? 'true' : undefined, dataset: field ? {field} : undefined},
  options.map(([v, text]) => h('option', {value: v, selected: v === value}, text)));
  return h('div', {class: 'field'},
    h('label', {for: id}, label, required ? ' *' : ''),
    hint ? h('span', {class: 'hint', id: hintId}, hint) : null,
    select);
}

// A fieldset of checkboxes or radios: options [[value, label, hint?]].
export function choiceGroup({legend, name, field, options, type = 'checkbox',
  checked = [], hint, inline = false}) {
  const hintId = hint ? uid('hint') : null;
  return h('fieldset', {class: 'choice-group', dataset: field ? {field} : undefined,
    'aria-describedby': hintId},
  h('legend', null, legend),
  hint ? h('span', {class: 'hint', id: hintId}, hint) : null,
  h('div', {class: inline ? 'choices-inline' : ''}, options.map(([value, text, optHint]) => {
    const id = uid(name);
    const optHintId = optHint ? uid('hint') : null;
    return h('div', {class: 'choice'},
      h('input', {type, id, name, value, checked: checked.includes(value),
        'aria-describedby': optHintId}),
      h('label', {for: id}, text,
        optHint ? h('span', {class: 'hint', id: optHintId}, optHint) : null));
  })));
}

export function checkedValues(root, name) {
  return $all(`input[name="${name}"]:checked`, root).map((el) => el.value);
}

export function valueOf(root, name) {
  const el = root.querySelector(`[name="${name}"]`);
  if (!el) return '';
  if (el.type === 'radio') {
    const checked = root.querySelector(`[name="${name}"]:checked`);
    return checked ? checked.value : '';
  }
  if (el.type === 'checkbox') return el.checked;
  return el.value.trim();
}
