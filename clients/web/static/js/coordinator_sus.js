// The coordinator's SUS parts: the export of a period's registrations
// (CoordinatorService.ExportSusRegistrations: one row per in- and
// out-registration, for the deltagaransvarig to register in SUS, the
// monthly anonymous counts per insats, and both as CSV), and the income
// before and after in the outcome report.
//
// The export names a participant (the agency's pseudonym) only where the
// consent lets the reader register them; the broker decides, and marks the
// others anonymous.

import {rpc} from './api.js';
import {download, h, replace, uid} from './dom.js';
import {enumLabel, t} from './i18n.js';
import {announce, notice} from './desk.js';
import {clearErrors, selectField, showErrors, showRpcError, textField, valueOf} from './forms.js';
import {displayName} from './referral_view.js';
import {susSummary} from './sus.js';
import {formatCivilDate, inputToDate, localDay, serverNow} from './time.js';

const pad = (n) => String(n).padStart(2, '0');
const IN_MOMENTS = ['SUS_MOMENT_IN', 'SUS_MOMENT_FIRST_MEETING', 'SUS_MOMENT_REQUEST'];

// The previous calendar month (Europe/Stockholm) as two "YYYY-MM-DD".
function previousMonth(now = serverNow()) {
  const today = localDay(now);
  const year = today.m === 1 ? today.y - 1 : today.y;
  const month = today.m === 1 ? 12 : today.m - 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return [`${year}-${pad(month)}-01`, `${year}-${pad(month)}-${pad(last)}`];
}

// Days from `a` to `b` ("YYYY-MM-DD"), as the broker counts them.
function daysBetween(a, b) {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86400000);
}

// The period's rules, as the broker's: both days, in order, at most 366.
function checkPeriod(from, to) {
  const errors = [];
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (!day.test(from)) errors.push({field: 'start_date', message: t('rule.required')});
  if (!day.test(to)) errors.push({field: 'end_date', message: t('rule.required')});
  if (errors.length) return errors;
  const span = daysBetween(from, to);
  if (span < 0) errors.push({field: 'end_date', message: t('rule.periodOrder')});
  else if (span > 365) errors.push({field: 'end_date', message: t('rule.periodLength')});
  return errors;
}

function insatsOf(row) {
  return row.offering ? displayName(row.offering) :
    displayName(row.activityType ? `activityTypes/${row.activityType}` : '');
}

function personOf(row) {
  if (row.anonymous) return h('em', null, t('coord.sus.anonymous'));
  const who = row.participantPseudonym || t('none');
  return row.referringOrganisation ? `${who} (${row.referringOrganisation})` : who;
}

function endingOf(row) {
  if (!row.ending) return t('none');
  const reasons = (row.outcomeReasons || []).map(enumLabel).join(', ');
  return reasons ? `${enumLabel(row.ending)} (${reasons})` : enumLabel(row.ending);
}

// A wide table scrolls inside its wrapper, which can then be reached and
// scrolled by keyboard.
function scrollingTable(id, caption, head, body) {
  const captionId = uid('caption');
  return h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': captionId},
    h('table', {id},
      h('caption', {id: captionId}, caption),
      h('thead', null, h('tr', null, head.map(([text, cls]) => h('th', {scope: 'col', class: cls}, text)))),
      h('tbody', null, body)));
}

function rowsTable(rows, from, to) {
  return scrollingTable('sus-rows', t('coord.sus.rows', {from, to}),
    [[t('col.date')], [t('col.moment')], [t('col.insats')], [t('col.gender')], [t('col.age'), 'num'],
      [t('col.participant')], [t('col.ending')], [t('col.registered')]],
    rows.map((row) => h('tr', {dataset: {referral: row.referral || '', moment: row.moment || ''}},
      h('th', {scope: 'row'}, formatCivilDate(row.date)),
      h('td', null, enumLabel(row.moment)),
      h('td', null, insatsOf(row)),
      h('td', null, enumLabel(row.gender || 'GENDER_UNSPECIFIED')),
      h('td', {class: 'num'}, row.ageYears === undefined ? t('none') : String(row.ageYears)),
      h('td', null, personOf(row)),
      h('td', null, endingOf(row)),
      h('td', null, susSummary(row.registration,
        IN_MOMENTS.includes(row.moment) ? 'ACTION_START' : 'ACTION_COMPLETE') || t('none')))));
}

function monthlyTable(monthly, from, to) {
  return scrollingTable('sus-monthly', t('coord.sus.monthly', {from, to}),
    [[t('col.month')], [t('col.insats')], [t('col.gender')], [t('col.ageBand')],
      [t('col.started'), 'num'], [t('col.ended'), 'num']],
    monthly.map((m) => h('tr', null,
      h('th', {scope: 'row'}, m.month),
      h('td', null, insatsOf(m)),
      h('td', null, enumLabel(m.gender || 'GENDER_UNSPECIFIED')),
      h('td', null, m.ageBand || t('none')),
      h('td', {class: 'num'}, String(m.started || 0)),
      h('td', {class: 'num'}, String(m.ended || 0)))));
}

// The export `exp` of [from, to], drawn into `body`.
function renderExport(body, exp, from, to) {
  const rows = exp.rows || [];
  const monthly = exp.monthly || [];
  if (!rows.length) {
    replace(body, h('p', {class: 'empty'}, t('coord.sus.empty')));
    return;
  }
  replace(body,
    h('p', {id: 'sus-summary'}, t('coord.sus.fetched', {n: rows.length})),
    rowsTable(rows, from, to),
    h('div', {class: 'actions'},
      h('button', {type: 'button', class: 'secondary', id: 'sus-csv',
        onclick: () => download(`sus-registreringar-${from}-${to}.csv`, exp.csv || '')}, t('coord.sus.csv'))),
    monthly.length ? [
      h('h3', null, t('coord.sus.monthlyH3')),
      monthlyTable(monthly, from, to),
      h('div', {class: 'actions'},
        h('button', {type: 'button', class: 'secondary', id: 'sus-monthly-csv',
          onclick: () => download(`sus-per-manad-${from}-${to}.csv`, exp.monthlyCsv || '')},
        t('coord.sus.monthlyCsv')))] : null);
}

// The section's form and what it shows; `offerings` are the region's
// insatser ({name, displayName}) for the optional choice of one. Returns
// redraw(), which draws both again (after a language switch) keeping the
// period and the last export.
export function susExportSection({parent, offerings, formHost, noticeEl, body}) {
  let last = null;
  let period = previousMonth();
  let offering = '';

  const show = async (form) => {
    const from = valueOf(form, 'from');
    const to = valueOf(form, 'to');
    period = [from, to];
    offering = valueOf(form, 'offering');
    const errors = checkPeriod(from, to);
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    clearErrors(form);
    const request = {parent, startDate: inputToDate(from), endDate: inputToDate(to)};
    if (offering) request.offering = offering;
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const exp = await rpc('CoordinatorService', 'ExportSusRegistrations', request);
      replace(noticeEl);
      last = {exp, from, to};
      renderExport(body, exp, from, to);
      announce(t('coord.sus.fetched', {n: (exp.rows || []).length}));
    } catch (err) {
      showRpcError(form, err, noticeEl, notice);
    } finally {
      button.disabled = false;
    }
  };

  const redraw = () => {
    const form = h('form', {id: 'sus-period', class: 'panel', novalidate: true},
      h('div', {class: 'grid-2'},
        textField({label: t('coord.response.from'), name: 'from', type: 'date', value: period[0],
          field: 'start_date', required: true}),
        textField({label: t('coord.response.to'), name: 'to', type: 'date', value: period[1],
          field: 'end_date', required: true}),
        offerings.length ? selectField({label: t('coord.sus.offering'), name: 'offering', field: 'offering',
          value: offering, options: [['', t('coord.filter.all')], ...offerings.map((o) => [o.name, o.displayName])]}) :
          null),
      h('div', {class: 'actions'}, h('button', {type: 'submit'}, t('coord.sus.show'))));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      show(form);
    });
    replace(formHost, form);
    if (last) renderExport(body, last.exp, last.from, last.to);
  };
  redraw();
  return redraw;
}

// Income before the start and after the end, of those who ended in the
// period with both registrations: the moved-to-work-or-studies figure and
// the table of pairs. Nothing when none had both.
export function incomeChangesView(report, from, to) {
  const changes = report.incomeChanges || [];
  const known = report.incomeKnown || 0;
  if (!changes.length && !known) return null;
  return [
    h('h3', null, t('coord.outcomes.income')),
    h('p', {id: 'outcomes-moved'}, t('coord.outcomes.moved',
      {moved: report.movedToWorkOrStudies || 0, known})),
    changes.length ? [
      h('p', {class: 'hint'}, t('coord.outcomes.income.hint')),
      h('div', {class: 'table-wrap'}, h('table', {id: 'income-table'},
        h('caption', null, `${t('coord.outcomes.income')} ${from} – ${to}`),
        h('thead', null, h('tr', null,
          h('th', {scope: 'col'}, t('col.incomeBefore')),
          h('th', {scope: 'col'}, t('col.incomeAfter')),
          h('th', {scope: 'col', class: 'num'}, t('col.participants')))),
        h('tbody', null, changes.map((c) => h('tr', null,
          h('td', null, enumLabel(c.before || 'INCOME_SOURCE_UNSPECIFIED')),
          h('td', null, enumLabel(c.after || 'INCOME_SOURCE_UNSPECIFIED')),
          h('td', {class: 'num'}, String(c.participants || 0)))))))] : null,
  ];
}
