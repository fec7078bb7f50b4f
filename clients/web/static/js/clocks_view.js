// A worklist of clocks as a table, for the coordinator's and the provider's
// desks: what is awaited, from whom, since when, due when ("senast onsdag 30
// dec"), how late in arbetsdagar; breached rows first (as the broker orders
// them), each marked in words and with a symbol, never by colour alone;
// pause with a cause, and resume.

import {requestId, rpc} from './api.js';
import {h, shortId} from './dom.js';
import {enumLabel, t} from './i18n.js';
import {clearErrors, selectField, showErrors, showRpcError, textField, valueOf} from './forms.js';
import {displayName} from './referral_view.js';
import {durationSeconds, formatDateTime, formatDeadline, lateness, observeServerTime} from './time.js';
import {notice} from './desk.js';

const CAUSES = ['DELAY_CAUSE_PARTICIPANT', 'DELAY_CAUSE_PROVIDER', 'DELAY_CAUSE_AGENCY'];

// The broker's now, learnt from a worklist item: due + lateness.
export function learnNow(items) {
  for (const item of items) {
    if (item.clock && item.clock.dueTime && item.lateness !== undefined) {
      const now = Date.parse(item.clock.dueTime) + durationSeconds(item.lateness) * 1000;
      observeServerTime(new Date(now).toISOString());
    }
  }
}

function statusBadge(clock, late) {
  if (clock.state === 'CLOCK_STATE_PAUSED') return h('span', {class: 'badge paused'}, t('badge.paused'));
  if (clock.state === 'CLOCK_STATE_BREACHED' || late.late) return h('span', {class: 'badge late'}, t('badge.late'));
  if (late.workingDays <= 1) return h('span', {class: 'badge soon'}, t('badge.soon'));
  return h('span', {class: 'badge ok'}, t('badge.ok'));
}

function pauseForm(clock, onDone, noticeEl) {
  const form = h('form', {class: 'pause-form', novalidate: true},
    selectField({label: t('coord.pause.cause'), name: 'cause', field: 'cause', required: true,
      options: [['', '–'], ...CAUSES.map((c) => [c, enumLabel(c)])]}),
    textField({label: t('coord.pause.note'), name: 'note', field: 'note'}),
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, t('coord.pause'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const cause = valueOf(form, 'cause');
    if (!cause) {
      showErrors(form, [{field: 'cause', message: t('rule.chooseOne')}]);
      return;
    }
    clearErrors(form);
    try {
      await rpc('CoordinatorService', 'PauseClock', {name: clock.name, cause, note: valueOf(form, 'note')});
      onDone(t('coord.paused'));
    } catch (err) {
      showRpcError(form, err, noticeEl, notice);
    }
  });
  return h('details', null, h('summary', null, `${t('coord.pause')} …`,
    h('span', {class: 'visually-hidden'}, ` ${enumLabel(clock.kind)} ${shortId(clock.referral)}`)), form);
}

function resumeButton(clock, onDone, noticeEl) {
  return h('button', {type: 'button', class: 'secondary', onclick: async () => {
    try {
      await rpc('CoordinatorService', 'ResumeClock', {name: clock.name});
      onDone(t('coord.resumed'));
    } catch (err) {
      notice(noticeEl, 'error', err);
    }
  }}, t('coord.resume'), h('span', {class: 'visually-hidden'}, ` ${enumLabel(clock.kind)} ${shortId(clock.referral)}`));
}

// The table; `fresh` names clocks to mark as new (a live breach).
export function worklistTable(items, {id, caption, canPause, onDone, noticeEl, fresh = new Set()}) {
  learnNow(items);
  return h('table', {id},
    h('caption', {class: 'visually-hidden'}, caption),
    h('thead', null, h('tr', null,
      h('th', {scope: 'col'}, t('col.status')),
      h('th', {scope: 'col'}, t('col.awaited')),
      h('th', {scope: 'col'}, t('col.from')),
      h('th', {scope: 'col'}, t('col.since')),
      h('th', {scope: 'col'}, t('col.due')),
      h('th', {scope: 'col'}, t('col.lateness')),
      h('th', {scope: 'col'}, t('col.referral')),
      canPause ? h('th', {scope: 'col'}, t('col.actions')) : null)),
    h('tbody', null, items.map((item) => {
      const clock = item.clock || {};
      const late = lateness(clock.dueTime);
      const overdue = clock.state === 'CLOCK_STATE_BREACHED' || late.late;
      const classes = [overdue ? 'overdue' : '', fresh.has(clock.name) ? 'new-row' : ''].join(' ').trim();
      return h('tr', {class: classes || undefined, dataset: {clock: clock.name, referral: clock.referral || '',
        state: clock.state || ''}},
      h('td', null, statusBadge(clock, late)),
      h('td', null, enumLabel(clock.kind)),
      h('td', null, displayName(`providers/${item.awaitedOrganisation}`) === item.awaitedOrganisation ?
        item.awaitedOrganisation : displayName(`providers/${item.awaitedOrganisation}`)),
      h('td', null, formatDateTime(item.sinceTime || clock.startTime)),
      h('td', null, formatDeadline(clock.dueTime)),
      h('td', null, late.late ? h('strong', null, late.text) : late.text),
      h('td', null, `${enumLabel(item.referralKind)} ${shortId(clock.referral)}`,
        clock.referringOrganisation ? h('span', {class: 'hint'}, clock.referringOrganisation) : null),
      canPause ? h('td', null, clock.state === 'CLOCK_STATE_PAUSED' ?
        resumeButton(clock, onDone, noticeEl) : pauseForm(clock, onDone, noticeEl)) : null);
    })));
}
