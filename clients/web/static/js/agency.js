// The agency's desk: a new referral of any kind, and "Mina remisser" with
// state, queue position (with its reasons and estimated start), history,
// protected personal data set or lifted, cancel and a consent's
// withdrawal. Live: the list is re-fetched when an event about one of our
// referrals arrives.

import {listAll, requestId, rpc} from './api.js';
import {$, debounce, h, latestOnly, replace, shortId} from './dom.js';
import {enumLabel, onLanguageChange, t} from './i18n.js';
import {announce, clearErrorNotice, bootDesk, describeEvent, notice, startLive} from './desk.js';
import {buildReferralForm, ownNameOf} from './agency_form.js';
import {clearErrors, selectField, showErrors, showRpcError, textField, valueOf} from './forms.js';
import {OPEN_STATES, contactText, displayName, historyTable, names, participantFacts, referralFacts,
  referralLabel, stateBadge} from './referral_view.js';
import {formatCivilDate, formatDateTime, observeServerTime} from './time.js';
import {checkEmail, checkPhone, checkText} from './validate.js';

const CANCEL_REASONS = ['CANCEL_REASON_NO_LONGER_NEEDED', 'CANCEL_REASON_PARTICIPANT_DECLINED',
  'CANCEL_REASON_SENT_IN_ERROR', 'CANCEL_REASON_DUPLICATE', 'CANCEL_REASON_OTHER'];

let session;
let catalog = {activityTypes: [], providers: [], agreements: []};
let referrals = [];
let showAll = false;
let openDetail = '';

async function loadCatalog() {
  const [activityTypes, providers, agreements, offerings] = await Promise.all([
    listAll('ProviderDirectory', 'ListActivityTypes', {pageSize: 1000}, 'activityTypes'),
    listAll('ProviderDirectory', 'ListProviders', {region: session.region, pageSize: 1000}, 'providers'),
    listAll('ProviderDirectory', 'ListFrameworkAgreements', {pageSize: 1000}, 'frameworkAgreements'),
    listAll('ProviderDirectory', 'ListOfferings', {parent: 'providers/-', region: session.region, pageSize: 1000},
      'offerings').catch(() => []),
  ]);
  for (const o of offerings) names.set(o.name, o.displayName);
  catalog = {activityTypes, providers, agreements};
  for (const a of activityTypes) names.set(a.name, a.displayName);
  for (const p of providers) names.set(p.name, p.displayName);
  for (const a of agreements) names.set(a.name, a.displayName);
}

function renderForm() {
  const host = $('#referral-form-host');
  const form = buildReferralForm(session, catalog, {
    noticeEl: $('#form-notice'),
    onCreated: (created) => {
      const text = t('agency.sent', {kind: enumLabel(created.kind), state: enumLabel(created.state)});
      notice($('#form-notice'), 'ok', [text, ' ',
        h('a', {href: '#mine', dataset: {referral: created.name}, onclick: (e) => {
          e.preventDefault();
          showDetail(created.name);
        }}, `${t('show')} ${shortId(created.name)}`)]);
      const status = $('#form-notice .notice');
      status.setAttribute('tabindex', '-1');
      status.focus();
      announce(text);
      renderForm();
      refreshList();
    },
  });
  replace(host, form);
}

// --- Mina remisser -----------------------------------------------------------

function parent() {
  return session.region ? `regions/${session.region}` : 'regions/-';
}

const refreshList = latestOnly(async (isLatest) => {
  try {
    const filter = showAll ? {} : {states: OPEN_STATES};
    const page = await rpc('ReferralService', 'ListReferrals', {parent: parent(), pageSize: 100, filter});
    if (!isLatest()) return;
    referrals = page.referrals || [];
    renderList();
    clearErrorNotice($('#mine-notice'));
  } catch (err) {
    notice($('#mine-notice'), 'error', err);
  }
  if (openDetail && isLatest()) await refreshDetail();
});
const refreshSoon = debounce(refreshList, 300);

// The open referral, shown again after a change, unless the person has
// begun filling in one of its forms: then it says the referral changed,
// and a button shows the latest, so that nothing typed is thrown away.
async function refreshDetail() {
  const host = $('#referral-detail');
  if (!host.dataset.editing) {
    await showDetail(openDetail, {keepFocus: true});
    return;
  }
  const box = $('#detail-notice');
  if (!box || box.querySelector('.stale')) return;
  replace(box, h('div', {class: 'notice info stale', role: 'status'},
    t('agency.detail.changed'), ' ',
    h('button', {type: 'button', class: 'secondary', onclick: () => showDetail(openDetail)},
      t('agency.detail.showLatest'))));
}

function renderFilter() {
  const box = $('#mine-filter');
  const group = h('fieldset', {class: 'choices-inline'},
    h('legend', null, t('agency.mine.filter')),
    [['open', t('agency.mine.filter.open')], ['all', t('agency.mine.filter.all')]].map(([value, text]) =>
      h('div', {class: 'choice'},
        h('input', {type: 'radio', name: 'mineFilter', id: `mine-${value}`, value,
          checked: (value === 'all') === showAll,
          onchange: () => {
            showAll = value === 'all';
            refreshList();
          }}),
        h('label', {for: `mine-${value}`}, text))));
  replace(box, group);
}

function participantOf(r) {
  if (r.participant && r.participant.pseudonym) return r.participant.pseudonym;
  if (r.impulse && r.impulse.callBack) return t('agency.impulse.callBackTo', {name: r.impulse.callBack.displayName || ''});
  return t('none');
}

function renderList() {
  const host = $('#mine-list');
  if (!referrals.length) {
    replace(host, h('p', {class: 'empty'}, t('agency.mine.empty')));
    return;
  }
  replace(host, h('table', {id: 'mine-table'},
    h('caption', {class: 'visually-hidden'}, t('agency.mine.h2')),
    h('thead', null, h('tr', null,
      h('th', {scope: 'col'}, t('col.created')),
      h('th', {scope: 'col'}, t('col.kind')),
      h('th', {scope: 'col'}, t('col.participant')),
      h('th', {scope: 'col'}, t('col.state')),
      h('th', {scope: 'col'}, t('col.provider')),
      h('th', {scope: 'col'}, t('col.actions')))),
    h('tbody', null, referrals.map((r) => h('tr', {dataset: {referral: r.name, state: r.state}},
      h('td', null, formatDateTime(r.createTime)),
      h('td', null, enumLabel(r.kind)),
      h('td', null, participantOf(r)),
      h('td', null, stateBadge(r.state)),
      h('td', null, r.assignedProvider ? displayName(r.assignedProvider) : t('none')),
      h('td', null, h('button', {type: 'button', class: 'secondary',
        'aria-label': `${t('show')} ${referralLabel(r)}`,
        onclick: () => showDetail(r.name)}, t('show'))))))));
}

async function queueBlock(r) {
  if (r.state !== 'REFERRAL_STATE_QUEUED') return null;
  try {
    const pos = await rpc('QueueService', 'GetQueuePosition', {referral: r.name});
    if (pos.computeTime) observeServerTime(pos.computeTime);
    const estimate = pos.estimatedStartDate ?
      `${formatCivilDate(pos.estimatedStartDate)}${pos.estimatedCohort ? ` (${displayName(pos.estimatedCohort)})` : ''}` :
      t('agency.detail.estimateNone');
    return h('div', {class: 'panel', id: 'queue-position'},
      h('h4', null, t('agency.detail.queue')),
      h('dl', {class: 'facts'},
        h('dt', null, t('agency.detail.queue')),
        h('dd', null, t('agency.detail.queuePos', {position: pos.position || 0, length: pos.queueLength || 0})),
        h('dt', null, t('agency.detail.estimate')),
        h('dd', null, estimate, pos.estimateBasis ? h('span', {class: 'hint'}, pos.estimateBasis) : null)),
      h('h5', null, t('agency.detail.reasons')),
      h('ul', {class: 'reasons'}, (pos.reasons || []).map((reason) =>
        h('li', null, `${enumLabel(reason.criterion)}: ${reason.explanation || ''}`))));
  } catch (err) {
    const box = h('div');
    notice(box, 'error', err);
    return box;
  }
}

function cancelForm(r) {
  const form = h('form', {class: 'panel', id: 'cancel-form', novalidate: true},
    h('h4', null, t('agency.cancel.legend')),
    selectField({label: t('agency.cancel.reason'), name: 'reason', field: 'reason', required: true,
      options: [['', '–'], ...CANCEL_REASONS.map((v) => [v, enumLabel(v)])]}),
    textField({label: t('agency.cancel.note'), name: 'note', field: 'note', textarea: true}),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'danger'}, t('agency.cancel.submit'))));
  const box = h('div');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const reason = valueOf(form, 'reason');
    const note = valueOf(form, 'note');
    const errors = [];
    if (!reason) errors.push({field: 'reason', message: t('rule.chooseOne')});
    if (reason === 'CANCEL_REASON_OTHER' && !note) errors.push({field: 'note', message: t('rule.noteForOther')});
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    clearErrors(form);
    try {
      await rpc('ReferralService', 'CancelReferral', {name: r.name, reason, note, etag: r.etag,
        requestId: requestId('cancel')});
      announce(t('agency.cancelled'));
      // Done with the form: the detail shows the referral as it is now.
      delete $('#referral-detail').dataset.editing;
      await refreshList();
      notice($('#detail-notice'), 'ok', t('agency.cancelled'));
    } catch (err) {
      showRpcError(form, err, box, notice);
    }
  });
  return [box, form];
}

// A returned referral (the provider could not reach the participant, or
// the participant said no): why, and the way back to the queue.
function resubmitForm(r) {
  const history = r.history || [];
  const last = history.length ? history[history.length - 1] : {};
  const why = last.declineReason ? enumLabel(last.declineReason) : '';
  const form = h('form', {class: 'panel', id: 'resubmit-form', novalidate: true},
    h('h4', null, t('agency.resubmit.legend')),
    h('p', {class: 'hint'}, t('agency.resubmit.why', {reason: why, note: last.note || '–'})),
    textField({label: t('agency.resubmit.note'), name: 'note', field: 'note', textarea: true}),
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, t('agency.resubmit.submit'))));
  const box = h('div');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    try {
      await rpc('ReferralService', 'ResubmitReferral', {name: r.name, note: valueOf(form, 'note'),
        etag: r.etag, requestId: requestId('resubmit')});
      announce(t('agency.resubmitted'));
      delete $('#referral-detail').dataset.editing;
      await refreshList();
      notice($('#detail-notice'), 'ok', t('agency.resubmitted'));
    } catch (err) {
      showRpcError(form, err, box, notice);
    }
  });
  return [box, form];
}

// The referrer's fields on the protection form, filled from the referral's
// referrer (or the person's own name): the provider's only route to a
// protected participant, so a name and a phone or e-mail are required.
function referrerFields(known) {
  const k = known || {};
  return h('fieldset', {dataset: {field: 'referrer'}},
    h('legend', null, t('agency.protection.referrer')),
    h('p', {class: 'hint'}, t('agency.referrer.protectedHint')),
    textField({label: t('agency.impulse.name'), name: 'refName', field: 'referrer.display_name', required: true,
      value: k.displayName || ownNameOf(session), autocomplete: 'name'}),
    textField({label: t('agency.referrer.unit'), name: 'refUnit', field: 'referrer.unit', value: k.unit || ''}),
    textField({label: t('agency.impulse.phone'), name: 'refPhone', field: 'referrer.phone', type: 'tel',
      value: k.phone || '', autocomplete: 'tel'}),
    textField({label: t('agency.impulse.email'), name: 'refEmail', field: 'referrer.email', type: 'email',
      value: k.email || '', autocomplete: 'email'}));
}

// The referrer from those fields, its broken rules pushed on `errors`.
function referrerFrom(form, errors) {
  const referrer = {displayName: valueOf(form, 'refName'), unit: valueOf(form, 'refUnit'),
    phone: valueOf(form, 'refPhone'), email: valueOf(form, 'refEmail')};
  const rule = (field, result) => {
    if (result) errors.push({field, message: t(...[].concat(result))});
  };
  rule('referrer.display_name', referrer.displayName ?
    checkText(referrer.displayName, {max: 200, free: false}) : 'rule.protectedReferrer');
  rule('referrer.unit', checkText(referrer.unit, {max: 200, free: false}));
  if (!referrer.phone && !referrer.email) rule('referrer.phone', 'rule.protectedReach');
  if (referrer.phone) rule('referrer.phone', checkPhone(referrer.phone));
  if (referrer.email) rule('referrer.email', checkEmail(referrer.email));
  for (const key of Object.keys(referrer)) if (!referrer[key]) delete referrer[key];
  return referrer;
}

// Protected personal data (skyddade personuppgifter): set or lifted, with
// why. Setting it asks for the referrer too when the referral names none
// the provider could reach (no name, or neither phone nor e-mail).
function protectionForm(r) {
  const protect = !r.protectedPersonalData;
  const known = r.referrer || {};
  const needsReferrer = protect && !(known.displayName && (known.phone || known.email));
  const via = contactText(known);
  const hint = !protect ? t('agency.protection.liftHint') :
    (via && !needsReferrer ? t('agency.protection.setHintVia', {contact: via}) : t('agency.protection.setHint'));
  const form = h('form', {class: 'panel', id: 'protection-form', novalidate: true,
    dataset: {protect: protect ? 'set' : 'lift'}},
  h('h4', null, t('agency.protection.legend')),
  h('p', {class: 'hint'}, hint),
  textField({label: t('agency.protection.note'), name: 'note', field: 'note', textarea: true, required: true,
    hint: t('agency.protection.noteHint')}),
  needsReferrer ? referrerFields(known) : null,
  h('div', {class: 'actions'}, h('button', {type: 'submit'},
    t(protect ? 'agency.protection.set' : 'agency.protection.lift'))));
  const box = h('div');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const note = valueOf(form, 'note');
    const errors = [];
    const noteError = checkText(note, {min: 1, max: 2000});
    if (noteError) errors.push({field: 'note', message: t(...noteError)});
    const request = {name: r.name, protectedPersonalData: protect, note, etag: r.etag,
      requestId: requestId('protect')};
    if (needsReferrer) request.referrer = referrerFrom(form, errors);
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    clearErrors(form);
    const done = t(protect ? 'agency.protection.done' : 'agency.protection.lifted');
    try {
      await rpc('ReferralService', 'SetProtectedPersonalData', request);
      announce(done);
      delete $('#referral-detail').dataset.editing;
      await refreshList();
      notice($('#detail-notice'), 'ok', done);
    } catch (err) {
      showRpcError(form, err, box, notice);
    }
  });
  return [box, form];
}

function withdrawForm(r) {
  const box = h('div');
  const form = h('form', {class: 'panel', id: 'withdraw-form', novalidate: true},
    h('h4', null, t('agency.withdraw.legend')),
    h('p', {class: 'hint'}, t('agency.withdraw.hint')),
    h('div', {class: 'choice', dataset: {field: 'confirm'}},
      h('input', {type: 'checkbox', id: 'withdraw-confirm', name: 'confirm'}),
      h('label', {for: 'withdraw-confirm'}, t('agency.withdraw.confirm'))),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'danger'}, t('agency.withdraw.submit'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!valueOf(form, 'confirm')) {
      showErrors(form, [{field: 'confirm', message: t('rule.required')}]);
      return;
    }
    clearErrors(form);
    try {
      // A consent is named after its referral (regions/13/consents/ID).
      const consent = (r.consent && r.consent.name) || r.name.replace('/referrals/', '/consents/');
      await rpc('ConsentService', 'WithdrawConsent', {name: consent,
        recordedByPerson: session.person || '', requestId: requestId('withdraw')});
      announce(t('agency.withdrawn'));
      // Done with the form: the detail shows the referral as it is now.
      delete $('#referral-detail').dataset.editing;
      await refreshList();
      notice($('#detail-notice'), 'ok', t('agency.withdrawn'));
    } catch (err) {
      showRpcError(form, err, box, notice);
    }
  });
  return [box, form];
}

async function showDetail(name, {keepFocus = false} = {}) {
  openDetail = name;
  const host = $('#referral-detail');
  let r;
  try {
    r = await rpc('ReferralService', 'GetReferral', {name, view: 'REFERRAL_VIEW_FULL'});
  } catch (err) {
    replace(host);
    notice(host, 'error', err);
    return;
  }
  // Unchanged since it was drawn (a live event about something else, or
  // one already shown): only the queue position may have moved, so only
  // that is drawn again, and a click on its forms is never lost to a redraw.
  const shown = host.querySelector('section[data-referral]');
  if (keepFocus && shown && shown.dataset.referral === r.name && host.dataset.etag === r.etag) {
    const queue = $('#detail-queue', host);
    if (queue) replace(queue, await queueBlock(r));
    return;
  }
  host.dataset.etag = r.etag;
  delete host.dataset.editing;
  const heading = h('h3', {id: 'detail-heading', tabindex: '-1'}, t('agency.detail.h3', {id: shortId(r.name)}));
  const allowed = r.allowedActions || [];
  const person = participantFacts(r.participant);
  replace(host, h('section', {class: 'card', 'aria-labelledby': 'detail-heading', dataset: {referral: r.name}},
    heading,
    h('div', {id: 'detail-notice'}),
    referralFacts(r),
    person ? [h('h4', null, t('agency.participant.legend')), person] : null,
    h('div', {id: 'detail-queue'}, await queueBlock(r)),
    historyTable(r),
    allowed.includes('ACTION_RESUBMIT') ? resubmitForm(r) : null,
    allowed.includes('ACTION_SET_PROTECTED_PERSONAL_DATA') ? protectionForm(r) : null,
    allowed.includes('ACTION_CANCEL') ? cancelForm(r) : null,
    allowed.includes('ACTION_WITHDRAW_CONSENT') ? withdrawForm(r) : null,
    h('div', {class: 'actions'}, h('button', {type: 'button', class: 'secondary', onclick: () => {
      openDetail = '';
      replace(host);
      $('#mine-h2').focus();
    }}, t('close')))));
  // Typing in a form of the detail keeps live updates from redrawing it.
  const editing = () => { host.dataset.editing = '1'; };
  for (const form of host.querySelectorAll('form')) {
    form.addEventListener('input', editing);
    form.addEventListener('change', editing);
  }
  if (!keepFocus) heading.focus();
}

function onEvent(event) {
  const mine = event.referringOrganisation === session.organisation ||
    (event.jointOrganisations || []).includes(session.organisation) ||
    referrals.some((r) => r.name === event.referral);
  if (!mine) return;
  announce(describeEvent(event));
  refreshSoon();
}

async function main() {
  session = await bootDesk('agency', 'title.agency');
  renderFilter();
  try {
    await loadCatalog();
  } catch (err) {
    notice($('#page-notice'), 'error', err);
  }
  renderForm();
  await refreshList();
  startLive(session, onEvent, refreshList);
  // A referral named in the address: agency.html#referral=regions/13/referrals/ID.
  const fromHash = () => {
    const match = /^#referral=(.+)$/.exec(location.hash);
    if (match) showDetail(decodeURIComponent(match[1]));
  };
  fromHash();
  window.addEventListener('hashchange', fromHash);
  onLanguageChange(() => {
    document.title = t('title.agency');
    renderFilter();
    renderForm();
    renderList();
    if (openDetail) showDetail(openDetail, {keepFocus: true});
  });
}

main();
