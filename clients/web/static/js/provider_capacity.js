// The provider's capacity: each offering's published places, caseload or
// cohorts, when it was last published, a reminder before it goes stale (the
// matcher stops relying on stale capacity), publishing anew, adding a
// cohort, and deciding a cohort that will not reach its minimum.

import {listAll, rpc} from './api.js';
import {$, h, replace, uid} from './dom.js';
import {enumLabel, t} from './i18n.js';
import {announce, notice} from './desk.js';
import {clearErrors, selectField, showErrors, showRpcError, textField, valueOf} from './forms.js';
import {displayName} from './referral_view.js';
import {formatCivilDate, formatDateTime, formatDeadline, inputToDate, serverNow} from './time.js';
import {checkIntRange} from './validate.js';

const REMIND_DAYS = 3;
const DECIDE_DAYS = 14;

function staleness(offering) {
  const cap = offering.capacity || {};
  if (!cap.updateTime) return null;
  const days = offering.staleAfterDays || 14;
  const staleAt = new Date(Date.parse(cap.updateTime) + days * 86400000);
  if (cap.stale || staleAt <= serverNow()) {
    return h('p', {class: 'notice error'}, h('span', {class: 'badge stale'}, t('badge.stale')), ' ',
      t('provider.capacity.stale'));
  }
  if (staleAt - serverNow() < REMIND_DAYS * 86400000) {
    return h('p', {class: 'notice'}, t('provider.capacity.staleSoon', {when: formatDeadline(staleAt.toISOString())}));
  }
  return null;
}

function summary(cap) {
  if (cap.places) {
    return t('provider.capacity.places', {occupied: cap.places.occupied || 0,
      held: cap.places.held || 0, total: cap.places.total || 0});
  }
  if (cap.caseload) {
    return t('provider.capacity.caseload', {open: cap.caseload.openCases || 0,
      held: cap.caseload.held || 0, max: cap.caseload.maxOpenCases || 0});
  }
  if (cap.cohorts) {
    const open = (cap.cohorts.cohorts || []).filter((c) => c.state === 'COHORT_STATE_OPEN' || !c.state);
    return t('provider.capacity.cohorts', {n: open.length});
  }
  return t('provider.capacity.none');
}

// The input fields of a cohort, to publish it again unchanged.
function cohortInput(c) {
  const out = {name: c.name, startDate: c.startDate, minSize: c.minSize, maxSize: c.maxSize};
  if (c.intakeStartDate) out.intakeStartDate = c.intakeStartDate;
  return out;
}

async function publish(offering, capacity, form, noticeEl, session, providers) {
  try {
    await rpc('ProviderDirectory', 'PublishCapacity', {offering: offering.name, capacity, etag: offering.etag});
    announce(t('provider.capacity.published'));
    await renderCapacity(session, providers);
    notice($('#capacity-notice'), 'ok', `${displayName(offering.name)}: ${t('provider.capacity.published')}`);
  } catch (err) {
    showRpcError(form, err, noticeEl, notice);
  }
}

function numberForm(offering, {label, key, inner, value}, session, providers) {
  const noticeEl = h('div');
  const form = h('form', {novalidate: true, class: 'publish-form'},
    textField({label, name: 'n', field: `capacity.${key}.${inner === 'total' ? 'total' : 'max_open_cases'}`,
      value: String(value || 0), inputmode: 'numeric', cls: 'short', hint: '0–10000'}),
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, t('provider.capacity.publish'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const n = valueOf(form, 'n');
    const rule = n === '' ? ['rule.required'] : checkIntRange(n, 0, 10000);
    if (rule) {
      showErrors(form, [{field: form.querySelector('input').dataset.field, message: t(...rule)}]);
      return;
    }
    clearErrors(form);
    publish(offering, {[key]: {[inner]: Number(n)}}, form, noticeEl, session, providers);
  });
  return [noticeEl, form];
}

function cohortsBlock(offering, session, providers) {
  const cohorts = (offering.capacity && offering.capacity.cohorts && offering.capacity.cohorts.cohorts) || [];
  const open = cohorts.filter((c) => c.state === 'COHORT_STATE_OPEN' || !c.state);
  const rows = cohorts.map((c) => {
    const filled = (c.enrolled || 0) + (c.held || 0);
    // A cohort that will not reach its minimum is decided before it starts:
    // asked for in its last two weeks.
    const start = c.startDate ? Date.UTC(c.startDate.year, c.startDate.month - 1, c.startDate.day) : 0;
    const belowMin = (c.state === 'COHORT_STATE_OPEN' || !c.state) && filled < (c.minSize || 0) &&
      start - serverNow().getTime() < DECIDE_DAYS * 86400000;
    return h('li', {dataset: {cohort: c.name}},
      `${displayName(c.name)}: `,
      t('provider.cohort.row', {start: formatCivilDate(c.startDate), enrolled: c.enrolled || 0,
        held: c.held || 0, min: c.minSize || 0, max: c.maxSize || 0}),
      c.state ? ` · ${enumLabel(c.state)}` : '',
      belowMin ? h('div', null, h('span', {class: 'badge soon'}, t('provider.cohort.belowMin')),
        decideForm(c, open.filter((o) => o.name !== c.name), session, providers)) : null);
  });
  const noticeEl = h('div');
  const form = h('form', {novalidate: true, class: 'panel cohort-form'},
    h('h5', null, t('provider.cohort.add')),
    h('div', {class: 'grid-2'},
      textField({label: t('provider.cohort.start'), name: 'start', type: 'date', required: true,
        field: `capacity.cohorts.cohorts[${cohorts.length}].start_date`}),
      textField({label: t('provider.cohort.min'), name: 'min', inputmode: 'numeric', cls: 'short', required: true,
        field: `capacity.cohorts.cohorts[${cohorts.length}].min_size`, value: '8'}),
      textField({label: t('provider.cohort.max'), name: 'max', inputmode: 'numeric', cls: 'short', required: true,
        field: `capacity.cohorts.cohorts[${cohorts.length}].max_size`, value: '12'})),
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, t('provider.cohort.add'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const start = valueOf(form, 'start');
    const min = valueOf(form, 'min');
    const max = valueOf(form, 'max');
    const errors = [];
    const field = (name) => form.querySelector(`[name="${name}"]`).dataset.field;
    if (!start) errors.push({field: field('start'), message: t('rule.required')});
    const maxRule = max === '' ? ['rule.required'] : checkIntRange(max, 1, 100);
    if (maxRule) errors.push({field: field('max'), message: t(...maxRule)});
    const minRule = min === '' ? ['rule.required'] : checkIntRange(min, 1, Number(max) || 100);
    if (minRule) errors.push({field: field('min'), message: t(...minRule)});
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    clearErrors(form);
    publish(offering, {cohorts: {cohorts: [...cohorts.map(cohortInput),
      {startDate: inputToDate(start), minSize: Number(min), maxSize: Number(max)}]}},
    form, noticeEl, session, providers);
  });
  return [h('h4', null, t('provider.cohort.h4')), h('ul', null, rows), noticeEl, form];
}

function decideForm(cohort, others, session, providers) {
  const noticeEl = h('div');
  const form = h('form', {novalidate: true, class: 'decide-form'},
    selectField({label: t('provider.cohort.decide'), name: 'decision', field: 'decision', required: true,
      options: [['', '–'], ...['COHORT_DECISION_START', 'COHORT_DECISION_MERGE', 'COHORT_DECISION_CANCEL']
        .map((d) => [d, enumLabel(d)])]}),
    others.length ? selectField({label: t('provider.cohort.mergeInto'), name: 'mergeInto', field: 'merge_into',
      options: [['', '–'], ...others.map((o) => [o.name, `${displayName(o.name)} (${formatCivilDate(o.startDate)})`])]}) : null,
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, t('provider.cohort.decide'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const decision = valueOf(form, 'decision');
    const mergeInto = valueOf(form, 'mergeInto');
    const errors = [];
    if (!decision) errors.push({field: 'decision', message: t('rule.chooseOne')});
    if (decision === 'COHORT_DECISION_MERGE' && !mergeInto) errors.push({field: 'merge_into', message: t('rule.chooseOne')});
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    clearErrors(form);
    try {
      await rpc('ProviderDirectory', 'DecideCohort', {name: cohort.name, decision,
        mergeInto: decision === 'COHORT_DECISION_MERGE' ? mergeInto : ''});
      announce(enumLabel(decision));
      await renderCapacity(session, providers);
    } catch (err) {
      showRpcError(form, err, noticeEl, notice);
    }
  });
  return h('details', null, h('summary', null, t('provider.cohort.decide'), ' …'), noticeEl, form);
}

function offeringCard(offering, session, providers) {
  const cap = offering.capacity || {};
  const headingId = uid('offering');
  let body;
  if (cap.cohorts) {
    body = cohortsBlock(offering, session, providers);
  } else if (cap.caseload) {
    body = numberForm(offering, {label: t('provider.capacity.max'), key: 'caseload', inner: 'maxOpenCases',
      value: cap.caseload.maxOpenCases}, session, providers);
  } else {
    body = numberForm(offering, {label: t('provider.capacity.total'), key: 'places', inner: 'total',
      value: cap.places ? cap.places.total : 0}, session, providers);
  }
  return h('article', {class: 'card capacity', 'aria-labelledby': headingId, dataset: {offering: offering.name}},
    h('h3', {id: headingId}, offering.displayName || displayName(offering.name)),
    h('p', null, summary(cap)),
    h('p', {class: 'muted'}, cap.updateTime ?
      t('provider.capacity.updated', {time: formatDateTime(cap.updateTime)}) : t('provider.capacity.none')),
    staleness(offering),
    body);
}

export async function renderCapacity(session, providers) {
  const host = $('#capacity-list');
  try {
    const lists = await Promise.all(providers.map((p) =>
      listAll('ProviderDirectory', 'ListOfferings', {parent: p.name, pageSize: 1000}, 'offerings')));
    const offerings = lists.flat();
    if (!offerings.length) {
      replace(host, h('p', {class: 'empty'}, t('provider.capacity.empty')));
      return;
    }
    replace(host, h('div', {class: 'cards'}, offerings.map((o) => offeringCard(o, session, providers))));
  } catch (err) {
    notice($('#capacity-notice'), 'error', err);
  }
}
