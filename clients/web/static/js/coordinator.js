// The coordinator's desk: the worklist of open clocks (breached first,
// filters, pause and resume), a new breach shown live and counted in the
// document's title; queues per activity type and area; response times and
// outcomes as tables, SVG charts and CSV; the SUS registrations of a period
// (coordinator_sus.js).

import {listAll, rpc} from './api.js';
import {$, debounce, download, h, latestOnly, replace} from './dom.js';
import {enumLabel, onLanguageChange, t} from './i18n.js';
import {announce, clearErrorNotice, bootDesk, describeEvent, notice, startLive} from './desk.js';
import {selectField, textField, valueOf} from './forms.js';
import {displayName, names} from './referral_view.js';
import {worklistTable} from './clocks_view.js';
import {barChart} from './charts.js';
import {incomeChangesView, susExportSection} from './coordinator_sus.js';
import {dayToRfc3339, durationSeconds, formatCivilDate, formatDateTime, formatDuration, inputToDate,
  serverNow, todayInput} from './time.js';

const KINDS = ['REFERRAL_KIND_IMPULSE', 'REFERRAL_KIND_ACTIVITY', 'REFERRAL_KIND_REHAB_SERVICE_ORDER',
  'REFERRAL_KIND_JOINT_MAPPING', 'REFERRAL_KIND_TEAM_HANDOVER'];
const HORIZONS = ['1', '3', '7', '14', '30'];

let session;
let providers = [];
let activityTypes = [];
// The region's insatser, for the SUS export's choice of one.
let offerings = [];
let redrawSus = null;
let filters = {horizon: '7', provider: '', agency: '', kind: ''};
let items = [];
const fresh = new Set();
let newBreaches = 0;
const agenciesSeen = new Set();

function region() {
  return `regions/${session.region}`;
}

function updateTitle() {
  document.title = newBreaches > 0 ?
    `${t('title.breaches', {n: newBreaches})} ${t('title.coordinator')}` : t('title.coordinator');
  const box = $('#breach-count');
  if (!newBreaches) {
    replace(box);
    return;
  }
  replace(box, h('div', {class: 'notice error', id: 'breach-notice'},
    h('strong', null, t('coord.breach.count', {n: newBreaches})), ' ',
    h('button', {type: 'button', class: 'secondary', onclick: () => {
      newBreaches = 0;
      fresh.clear();
      updateTitle();
      renderWorklist();
      $('#worklist-h2').focus();
    }}, t('coord.breach.ack'))));
}

// --- worklist -------------------------------------------------------------------

function renderFilters() {
  const form = h('form', {id: 'worklist-filter', class: 'panel', novalidate: true},
    h('fieldset', null, h('legend', null, t('coord.filter.legend')),
      h('div', {class: 'grid-2'},
        selectField({label: t('coord.filter.horizon'), name: 'horizon', value: filters.horizon,
          options: HORIZONS.map((d) => [d, t(`horizon.${d}`)])}),
        selectField({label: t('coord.filter.provider'), name: 'provider', value: filters.provider,
          options: [['', t('coord.filter.all')], ...providers.map((p) => [p.name, p.displayName])]}),
        selectField({label: t('coord.filter.kind'), name: 'kind', value: filters.kind,
          options: [['', t('coord.filter.all')], ...KINDS.map((k) => [k, enumLabel(k)])]}),
        textField({label: t('coord.filter.agency'), name: 'agency', value: filters.agency,
          hint: [...agenciesSeen].join(', ') || 'kommun-halmstad-eb'})),
      h('div', {class: 'actions'}, h('button', {type: 'submit'}, t('coord.filter.apply')))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    filters = {horizon: valueOf(form, 'horizon'), provider: valueOf(form, 'provider'),
      agency: valueOf(form, 'agency'), kind: valueOf(form, 'kind')};
    refreshWorklist();
  });
  replace($('#worklist-filters'), form);
}

const refreshWorklist = latestOnly(async (isLatest) => {
  try {
    const request = {parent: region(), dueWithin: `${Number(filters.horizon) * 86400}s`, pageSize: 200};
    if (filters.provider) request.provider = filters.provider;
    if (filters.agency) request.referringOrganisation = filters.agency;
    if (filters.kind) request.kinds = [filters.kind];
    const fetched = await listAll('CoordinatorService', 'ListWorklist', request, 'items', 5);
    if (!isLatest()) return;
    items = fetched;
    for (const item of items) {
      if (item.clock && item.clock.referringOrganisation) agenciesSeen.add(item.clock.referringOrganisation);
    }
    clearErrorNotice($('#worklist-notice'));
    renderWorklist();
  } catch (err) {
    notice($('#worklist-notice'), 'error', err);
  }
});
const refreshWorklistSoon = debounce(refreshWorklist, 250);

function renderWorklist() {
  const host = $('#worklist-list');
  if (!items.length) {
    replace(host, h('p', {class: 'empty'}, t('coord.worklist.empty')));
    return;
  }
  replace(host, worklistTable(items, {id: 'worklist-table', caption: t('coord.worklist.h2'),
    canPause: true, fresh, noticeEl: $('#worklist-notice'), onDone: (text) => {
      notice($('#worklist-notice'), 'ok', text);
      announce(text);
      refreshWorklist();
    }}));
}

// --- queues ---------------------------------------------------------------------

// Where a queue's wait is heading in the coming 12 weeks, and from which
// week it passes the activity type's threshold.
function forecastCell(f) {
  const peak = f.peakWaitUnbounded ? t('forecast.unbounded') :
    t('forecast.peak', {n: f.peakWaitWeeks || 0});
  if (!f.warningWeek) return peak;
  return h('span', null, `${peak} `, h('span', {class: 'badge stale'},
    t('forecast.warning', {n: f.warningWeeks, week: formatCivilDate(f.warningWeek)})));
}

async function refreshQueues() {
  const host = $('#queues-list');
  try {
    const overview = await rpc('CoordinatorService', 'GetQueueOverview', {parent: region()});
    const queues = overview.queues || [];
    clearErrorNotice($('#queues-notice'));
    if (!queues.length) {
      replace(host, h('p', {class: 'empty'}, t('coord.queues.empty')));
      return;
    }
    replace(host, h('table', {id: 'queues-table'},
      h('caption', {class: 'visually-hidden'}, t('coord.queues.h2')),
      h('thead', null, h('tr', null,
        h('th', {scope: 'col'}, t('col.activity')),
        h('th', {scope: 'col'}, t('col.area')),
        h('th', {scope: 'col', class: 'num'}, t('col.length')),
        h('th', {scope: 'col'}, t('col.oldest')),
        h('th', {scope: 'col'}, t('col.estimate')),
        h('th', {scope: 'col'}, t('col.stale')),
        h('th', {scope: 'col'}, t('col.forecast')))),
      h('tbody', null, queues.map((q) => h('tr', null,
        h('th', {scope: 'row'}, displayName(`activityTypes/${q.activityType}`)),
        h('td', null, q.area),
        h('td', {class: 'num'}, String(q.length || 0)),
        h('td', null, formatDateTime(q.oldestWaitStartTime)),
        h('td', null, q.estimatedWait ? formatDuration(durationSeconds(q.estimatedWait)) : t('none')),
        h('td', null, q.staleOfferings ?
          h('span', {class: 'badge stale'}, `${t('badge.stale')}: ${q.staleOfferings}`) : t('none')),
        h('td', null, forecastCell(q.forecast || {})))))));
  } catch (err) {
    notice($('#queues-notice'), 'error', err);
  }
}
const refreshQueuesSoon = debounce(refreshQueues, 500);

// --- response times ---------------------------------------------------------------

function csvOf(header, rows) {
  const cell = (v) => {
    const s = String(v === undefined || v === null ? '' : v);
    return /[;"\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(';')).join('\n');
}

function periodForm(id, onSubmit, extra = []) {
  const today = todayInput();
  const from = todayInput(new Date(serverNow().getTime() - 28 * 86400000));
  const form = h('form', {id, class: 'panel', novalidate: true},
    h('div', {class: 'grid-2'},
      textField({label: t('coord.response.from'), name: 'from', type: 'date', value: from, field: 'start'}),
      textField({label: t('coord.response.to'), name: 'to', type: 'date', value: today, field: 'end'}),
      extra),
    h('div', {class: 'actions'}, h('button', {type: 'submit'},
      id === 'response-period' ? t('coord.response.show') : t('coord.outcomes.show'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    onSubmit(form);
  });
  return form;
}

async function showResponseTimes(form) {
  const from = valueOf(form, 'from');
  const to = valueOf(form, 'to');
  const body = $('#response-body');
  try {
    const stats = await rpc('CoordinatorService', 'GetResponseTimeStatistics', {parent: region(),
      startTime: dayToRfc3339(from), endTime: dayToRfc3339(to, true)});
    const rows = stats.rows || [];
    replace($('#response-notice'));
    if (!rows.length) {
      replace(body, h('p', {class: 'empty'}, t('coord.response.empty')));
      return;
    }
    const party = (r) => displayName(r.party.startsWith('providers/') ? r.party :
      (providers.find((p) => p.organisation === r.party) || {}).name || r.party);
    const hours = (d) => Math.round((durationSeconds(d) / 3600) * 10) / 10;
    const pct = (x) => `${Math.round((x || 0) * 1000) / 10} %`;
    const header = [t('col.party'), t('col.clockKind'), t('col.clocks'), t('col.median'), t('col.p90'), t('col.breachRate')];
    const csv = csvOf(header, rows.map((r) => [party(r), enumLabel(r.clockKind), r.clocks || 0,
      hours(r.median), hours(r.p90), (r.breachRate || 0).toFixed(3)]));
    replace(body,
      barChart({title: t('coord.response.chart'), categories: rows.map((r) => `${party(r)}: ${enumLabel(r.clockKind)}`),
        series: [{name: t('col.median'), values: rows.map((r) => hours(r.median))},
          {name: t('col.p90'), values: rows.map((r) => hours(r.p90))}],
        format: (v) => `${v} h`}),
      h('div', {class: 'table-wrap'}, h('table', {id: 'response-table'},
        h('caption', null, `${t('coord.response.h2')} ${from} – ${to}`),
        h('thead', null, h('tr', null, header.map((c, i) => h('th', {scope: 'col', class: i >= 2 ? 'num' : undefined}, c)))),
        h('tbody', null, rows.map((r) => h('tr', null,
          h('th', {scope: 'row'}, party(r)),
          h('td', null, enumLabel(r.clockKind)),
          h('td', {class: 'num'}, String(r.clocks || 0)),
          h('td', {class: 'num'}, formatDuration(durationSeconds(r.median))),
          h('td', {class: 'num'}, formatDuration(durationSeconds(r.p90))),
          h('td', {class: 'num'}, pct(r.breachRate))))))),
      h('div', {class: 'actions'}, h('button', {type: 'button', class: 'secondary',
        onclick: () => download(`svarstider-${from}-${to}.csv`, csv)}, t('csv.download'))),
      await weeklyTrend(from, to));
  } catch (err) {
    notice($('#response-notice'), 'error', err);
  }
}

// The trend week by week: clocks started and the share breached, per week.
async function weeklyTrend(from, to) {
  const start = Date.parse(dayToRfc3339(from));
  const end = Date.parse(dayToRfc3339(to, true));
  const weeks = [];
  for (let s = start; s < end && weeks.length < 12; s += 7 * 86400000) {
    weeks.push([s, Math.min(end, s + 7 * 86400000)]);
  }
  if (weeks.length < 2) return null;
  const results = await Promise.all(weeks.map(([s, e]) =>
    rpc('CoordinatorService', 'GetResponseTimeStatistics', {parent: region(),
      startTime: new Date(s).toISOString(), endTime: new Date(e).toISOString()}).catch(() => ({rows: []}))));
  const label = ([s]) => todayInput(new Date(s));
  const totals = results.map((r) => (r.rows || []).reduce((acc, row) => {
    acc.clocks += row.clocks || 0;
    acc.breached += (row.clocks || 0) * (row.breachRate || 0);
    return acc;
  }, {clocks: 0, breached: 0}));
  return h('div', null,
    h('h3', null, t('coord.response.trend')),
    barChart({title: `${t('col.breachRate')} (%)`, categories: weeks.map(label),
      series: [{name: t('col.breachRate'), values: totals.map((x) => (x.clocks ? Math.round((x.breached / x.clocks) * 1000) / 10 : 0))}],
      format: (v) => `${v} %`}),
    h('div', {class: 'table-wrap'}, h('table', null,
      h('caption', {class: 'visually-hidden'}, t('col.breachRate')),
      h('thead', null, h('tr', null, h('th', {scope: 'col'}, t('coord.response.from')),
        h('th', {scope: 'col', class: 'num'}, t('col.clocks')), h('th', {scope: 'col', class: 'num'}, t('col.breachRate')))),
      h('tbody', null, weeks.map((w, i) => h('tr', null, h('th', {scope: 'row'}, label(w)),
        h('td', {class: 'num'}, String(totals[i].clocks)),
        h('td', {class: 'num'}, totals[i].clocks ? `${Math.round((totals[i].breached / totals[i].clocks) * 1000) / 10} %` : t('none'))))))));
}

// --- outcomes ---------------------------------------------------------------------

async function showOutcomes(form) {
  const from = valueOf(form, 'from');
  const to = valueOf(form, 'to');
  const activityType = valueOf(form, 'activity');
  const body = $('#outcomes-body');
  try {
    const report = await rpc('CoordinatorService', 'GetOutcomeReport', {parent: region(),
      startDate: inputToDate(from), endDate: inputToDate(to), activityType});
    replace($('#outcomes-notice'));
    const counts = report.counts || [];
    const reasons = report.exitReasons || [];
    const impulses = report.impulses || {};
    const impulseLine = (impulses.received || impulses.started || impulses.ended)
      ? h('p', {id: 'outcomes-impulses'}, t('coord.outcomes.impulses',
        {received: impulses.received || 0, started: impulses.started || 0, ended: impulses.ended || 0}))
      : null;
    if (!counts.length && !reasons.length) {
      replace(body, h('p', {class: 'empty'}, t('coord.outcomes.empty')), impulseLine, jointView(report, from, to));
      return;
    }
    replace(body,
      h('p', null, t('coord.outcomes.followed', {n: report.followedUp || 0, positive: report.followedUpPositive || 0})),
      impulseLine,
      jointView(report, from, to),
      h('div', {class: 'table-wrap'}, h('table', {id: 'outcomes-table'},
        h('caption', null, `${t('coord.outcomes.h2')} ${from} – ${to}`),
        h('thead', null, h('tr', null,
          h('th', {scope: 'col'}, t('col.gender')), h('th', {scope: 'col'}, t('col.ageBand')),
          h('th', {scope: 'col', class: 'num'}, t('col.participants')),
          h('th', {scope: 'col', class: 'num'}, t('col.starts')),
          h('th', {scope: 'col', class: 'num'}, t('col.exits')))),
        h('tbody', null, counts.map((c) => h('tr', null,
          h('td', null, enumLabel(c.gender || 'GENDER_UNSPECIFIED')), h('td', null, c.ageBand || ''),
          h('td', {class: 'num'}, String(c.participants || 0)),
          h('td', {class: 'num'}, String(c.starts || 0)),
          h('td', {class: 'num'}, String(c.exits || 0))))))),
      reasons.length ? [
        h('h3', null, t('coord.outcomes.reasons')),
        barChart({title: t('coord.outcomes.chart'), categories: reasons.map((r) => enumLabel(r.reason)),
          series: [{name: t('col.count'), values: reasons.map((r) => r.count || 0)}]}),
        h('div', {class: 'table-wrap'}, h('table', null,
          h('caption', {class: 'visually-hidden'}, t('coord.outcomes.reasons')),
          h('thead', null, h('tr', null, h('th', {scope: 'col'}, t('col.reason')),
            h('th', {scope: 'col', class: 'num'}, t('col.count')))),
          h('tbody', null, reasons.map((r) => h('tr', null, h('td', null, enumLabel(r.reason)),
            h('td', {class: 'num'}, String(r.count || 0)))))))] : null,
      incomeChangesView(report, from, to),
      report.csv ? h('div', {class: 'actions'}, h('button', {type: 'button', class: 'secondary', id: 'outcomes-csv',
        onclick: () => download(`utfall-${from}-${to}.csv`, report.csv)}, t('csv.download'))) : null);
  } catch (err) {
    notice($('#outcomes-notice'), 'error', err);
  }
}

// The joint referrals (samordnad insats) of the period per agency, each
// agency in its part; null when there were none.
function jointView(report, from, to) {
  const rows = report.jointReferrals || [];
  if (!rows.length) return null;
  const num = (n) => h('td', {class: 'num'}, String(n || 0));
  return [
    h('h3', null, t('coord.outcomes.joint')),
    h('p', {id: 'outcomes-joint-made'}, t('coord.outcomes.jointMade', {n: report.jointReferralsMade || 0})),
    h('div', {class: 'table-wrap'}, h('table', {id: 'outcomes-joint'},
      h('caption', null, `${t('coord.outcomes.joint')} ${from} – ${to}`),
      h('thead', null, h('tr', null,
        h('th', {scope: 'col'}, t('coord.outcomes.joint.agency')),
        h('th', {scope: 'col', class: 'num'}, t('coord.outcomes.joint.led')),
        h('th', {scope: 'col', class: 'num'}, t('coord.outcomes.joint.co')),
        h('th', {scope: 'col', class: 'num'}, t('coord.outcomes.joint.informed')),
        h('th', {scope: 'col', class: 'num'}, t('coord.outcomes.joint.started')))),
      h('tbody', null, rows.map((r) => h('tr', null,
        h('th', {scope: 'row'}, r.organisation),
        num(r.led), num(r.coReferred), num(r.informed), num(r.started)))))),
  ];
}

function renderReportForms() {
  replace($('#response-form'), periodForm('response-period', showResponseTimes));
  replace($('#outcomes-form'), periodForm('outcomes-period', showOutcomes, [
    selectField({label: t('coord.outcomes.activity'), name: 'activity',
      options: [['', t('coord.filter.all')], ...activityTypes.map((a) => [a.name.split('/').pop(), a.displayName])]})]));
  if (redrawSus) {
    redrawSus();
  } else {
    redrawSus = susExportSection({parent: region(), offerings, formHost: $('#sus-form'),
      noticeEl: $('#sus-notice'), body: $('#sus-body')});
  }
}

// --- live -------------------------------------------------------------------------

function onEvent(event) {
  if (event.type === 'EVENT_TYPE_CLOCK_BREACHED') {
    newBreaches += 1;
    if (event.clock) fresh.add(event.clock);
    updateTitle();
    announce(t('coord.breach.live', {what: enumLabel(event.clockKind),
      who: event.providerOrganisation || event.referringOrganisation || ''}));
    refreshWorklistSoon();
    return;
  }
  if (event.type && (event.type.startsWith('EVENT_TYPE_CLOCK_') || event.type.startsWith('EVENT_TYPE_OFFER_') ||
    event.type.startsWith('EVENT_TYPE_REFERRAL_') || event.type === 'EVENT_TYPE_CONTACT_RECORDED' ||
    event.type === 'EVENT_TYPE_CONSENT_WITHDRAWN' || event.type === 'EVENT_TYPE_PARTICIPATION_STARTED')) {
    if (event.type === 'EVENT_TYPE_CLOCK_ESCALATED' || event.type === 'EVENT_TYPE_CLOCK_WARNING') {
      announce(describeEvent(event));
    }
    refreshWorklistSoon();
  }
  if (event.type === 'EVENT_TYPE_CAPACITY_PUBLISHED' || event.type === 'EVENT_TYPE_REFERRAL_QUEUED' ||
    event.type === 'EVENT_TYPE_OFFER_MADE') {
    refreshQueuesSoon();
  }
}

async function main() {
  session = await bootDesk('coordinator', 'title.coordinator');
  try {
    [providers, activityTypes] = await Promise.all([
      listAll('ProviderDirectory', 'ListProviders', {region: session.region, pageSize: 1000}, 'providers'),
      listAll('ProviderDirectory', 'ListActivityTypes', {pageSize: 1000}, 'activityTypes')]);
    for (const p of providers) names.set(p.name, p.displayName);
    for (const a of activityTypes) names.set(a.name, a.displayName);
  } catch (err) {
    notice($('#page-notice'), 'error', err);
  }
  try {
    offerings = (await listAll('ProviderDirectory', 'ListOfferings', {parent: 'providers/-',
      region: session.region, pageSize: 1000}, 'offerings'))
      .sort((a, b) => (a.displayName || '').localeCompare(b.displayName || '', 'sv'));
    for (const o of offerings) names.set(o.name, o.displayName);
  } catch {
    // Without the list the export still works, for every insats, and
    // names an insats by its id.
    offerings = [];
  }
  renderFilters();
  await Promise.all([refreshWorklist(), refreshQueues()]);
  // After the worklist, which tells the broker's time: the period ends today.
  renderReportForms();
  startLive(session, onEvent, () => {
    refreshWorklist();
    refreshQueues();
  });
  onLanguageChange(() => {
    updateTitle();
    renderFilters();
    renderReportForms();
    renderWorklist();
    refreshQueues();
  });
}

main();
