// The provider's desk: held offers (time left on the hold, the referral as
// far as consent allows, whether the participant is reached only through
// the referring agency, accept or decline with a coded reason), the clocks
// that await the provider (overdue first), the participants with the
// actions their state allows, and capacity (publish, cohorts, staleness).
// Live: an offer made to us appears without reload. The start, complete and
// exit forms carry what SUS registers (sus.js).

import {listAll, requestId, rpc} from './api.js';
import {$, debounce, h, latestOnly, replace, shortId} from './dom.js';
import {enumLabel, onLanguageChange, t} from './i18n.js';
import {announce, clearErrorNotice, bootDesk, describeEvent, doneEditing, notice, redraw,
  startLive} from './desk.js';
import {checkedValues, choiceGroup, clearErrors, selectField, showErrors, showRpcError,
  textField, valueOf} from './forms.js';
import {caseFacts, displayName, historyTable, names, participantFacts, protectionFacts, referralFacts,
  referralLabel, stateBadge} from './referral_view.js';
import {worklistTable} from './clocks_view.js';
import {formatDateTime, observeServerTime, timeLeft} from './time.js';
import {checkText} from './validate.js';
import {renderCapacity} from './provider_capacity.js';
import {collectSus, inRegistrationFields, outRegistrationFields} from './sus.js';

const DECLINE_REASONS = ['DECLINE_REASON_NO_CAPACITY', 'DECLINE_REASON_NOT_ELIGIBLE',
  'DECLINE_REASON_COULD_NOT_CONTACT', 'DECLINE_REASON_PARTICIPANT_DECLINED', 'DECLINE_REASON_OTHER'];
const OUTCOMES = ['OUTCOME_REASON_WORK', 'OUTCOME_REASON_STUDIES', 'OUTCOME_REASON_AF_PROGRAMME',
  'OUTCOME_REASON_OWN_BUSINESS', 'OUTCOME_REASON_SOCIAL_ENTERPRISE',
  'OUTCOME_REASON_SICKNESS_COMPENSATION_GRANTED', 'OUTCOME_REASON_SICKNESS_BENEFIT',
  'OUTCOME_REASON_NEW_SICK_LEAVE', 'OUTCOME_REASON_PROGRAMME_COMPLETED',
  'OUTCOME_REASON_CONSENT_WITHDRAWN', 'OUTCOME_REASON_OTHER'];
// Felregistrering: only at exit, and alone; no out-registration is needed.
const REGISTRATION_ERROR = 'OUTCOME_REASON_REGISTRATION_ERROR';
const SERVED_STATES = ['REFERRAL_STATE_ACCEPTED', 'REFERRAL_STATE_STARTED',
  'REFERRAL_STATE_COMPLETED', 'REFERRAL_STATE_EXITED'];

let session;
let myProviders = [];
let regions = [];
let offers = [];
const offerReferrals = new Map();
let participants = [];
// Whose action panels are open: kept open when the list is re-fetched.
const openActions = new Set();

function anyParent() {
  return session.region ? `regions/${session.region}` : 'regions/-';
}

async function loadDirectory() {
  const providers = await listAll('ProviderDirectory', 'ListProviders', {pageSize: 1000}, 'providers');
  for (const p of providers) names.set(p.name, p.displayName);
  myProviders = providers.filter((p) => p.organisation === session.organisation);
  regions = session.region ? [session.region] :
    [...new Set(myProviders.flatMap((p) => p.regions || []))];
  const [offerings, activityTypes] = await Promise.all([
    listAll('ProviderDirectory', 'ListOfferings', {parent: 'providers/-', pageSize: 1000}, 'offerings'),
    listAll('ProviderDirectory', 'ListActivityTypes', {pageSize: 1000}, 'activityTypes')]);
  for (const o of offerings) names.set(o.name, o.displayName);
  for (const a of activityTypes) names.set(a.name, a.displayName);
}

// --- offers ------------------------------------------------------------------

const refreshOffers = latestOnly(async (isLatest) => {
  try {
    const page = await rpc('OfferService', 'ListOffers', {parent: anyParent(),
      states: ['OFFER_STATE_HELD'], pageSize: 100});
    if (!isLatest()) return;
    const fetched = page.offers || [];
    // Nothing changed: keep the cards (and where the person is in them).
    if (JSON.stringify(fetched) === JSON.stringify(offers) && $('#offers-list .offer, #offers-list .empty')) {
      return;
    }
    await Promise.all(fetched.map(async (offer) => {
      if (offerReferrals.has(offer.referral)) return;
      try {
        offerReferrals.set(offer.referral, await rpc('ReferralService', 'GetReferral',
          {name: offer.referral, view: 'REFERRAL_VIEW_BASIC'}));
      } catch {
        offerReferrals.set(offer.referral, null);
      }
    }));
    if (!isLatest()) return;
    offers = fetched;
    clearErrorNotice($('#offers-notice'));
    renderOffers();
  } catch (err) {
    notice($('#offers-notice'), 'error', err);
  }
});

function declineForm(offer) {
  const form = h('form', {class: 'decline-form', novalidate: true},
    selectField({label: t('provider.decline.reason'), name: 'reason', field: 'reason', required: true,
      options: [['', '–'], ...DECLINE_REASONS.map((r) => [r, enumLabel(r)])]}),
    textField({label: t('provider.decline.note'), name: 'note', field: 'note', textarea: true}),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'danger'}, t('provider.decline.submit'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const reason = valueOf(form, 'reason');
    const note = valueOf(form, 'note');
    const errors = [];
    if (!reason) errors.push({field: 'reason', message: t('rule.chooseOne')});
    if (reason === 'DECLINE_REASON_OTHER' && !note) errors.push({field: 'note', message: t('rule.noteForOther')});
    const textError = checkText(note, {max: 2000});
    if (textError) errors.push({field: 'note', message: t(...textError)});
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    clearErrors(form);
    try {
      await rpc('OfferService', 'DeclineOffer', {name: offer.name, reason, note,
        person: session.person || '', requestId: requestId('decline')});
      await refreshAfterAction();
      notice($('#offers-notice'), 'ok', t('provider.declined'));
      announce(t('provider.declined'));
      $('#offers-h2').focus();
    } catch (err) {
      showRpcError(form, err, $('#offers-notice'), notice);
    }
  });
  return h('details', null, h('summary', null, t('provider.decline.summary')), form);
}

function offerCard(offer) {
  const referral = offerReferrals.get(offer.referral);
  const person = referral ? participantFacts(referral.participant) : null;
  const headingId = `offer-${offer.name.split('/').pop()}`;
  const accept = h('button', {type: 'button', class: 'accept', onclick: async () => {
    accept.disabled = true;
    try {
      const answered = await rpc('OfferService', 'AcceptOffer', {name: offer.name,
        person: session.person || '', requestId: requestId('accept')});
      if (answered.closeTime) observeServerTime(answered.closeTime);
      await refreshAfterAction();
      notice($('#offers-notice'), 'ok', t('provider.accepted'));
      announce(t('provider.accepted'));
      $('#offers-h2').focus();
    } catch (err) {
      accept.disabled = false;
      notice($('#offers-notice'), 'error', err);
    }
  }}, t('provider.accept'), h('span', {class: 'visually-hidden'}, ` ${shortId(offer.referral)}`));
  return h('article', {class: 'card offer', 'aria-labelledby': headingId,
    dataset: {offer: offer.name, referral: offer.referral}},
  h('h3', {id: headingId}, t('provider.offer.h3', {offering: displayName(offer.offering)})),
  h('dl', {class: 'facts'},
    protectionFacts(offer.protectedPersonalData, offer.participantContact),
    h('dt', null, t('provider.offer.referral')), h('dd', null, shortId(offer.referral)),
    offer.cohort ? [h('dt', null, t('provider.offer.cohort')), h('dd', null, displayName(offer.cohort))] : null,
    referral && referral.kind ? [h('dt', null, t('col.state')), h('dd', null, stateBadge(referral.state))] : null,
    h('dt', null, t('provider.offer.held')), h('dd', null, formatDateTime(offer.holdExpireTime)),
    h('dt', null, t('provider.offer.left')), h('dd', {class: 'hold-left'}, h('strong', null, timeLeft(offer.holdExpireTime)))),
  offer.explanation && offer.explanation.reasons ? [
    h('h4', null, t('provider.offer.why')),
    h('ul', {class: 'reasons'}, offer.explanation.reasons.map((r) => h('li', null, r)))] : null,
  h('h4', null, t('provider.offer.details')),
  person || h('p', {class: 'muted'}, t('provider.offer.noDetails')),
  referral ? [h('h4', null, t('provider.offer.case')), caseFacts(referral)] : null,
  h('div', {class: 'actions'}, accept),
  declineForm(offer));
}

function renderOffers({force = false} = {}) {
  const host = $('#offers-list');
  if (!offers.length) {
    doneEditing(host);  // no form left to keep
    replace(host, h('p', {class: 'empty'}, t('provider.offers.empty')));
    return;
  }
  // Soonest expiring hold first.
  const sorted = [...offers].sort((a, b) => (a.holdExpireTime || '').localeCompare(b.holdExpireTime || ''));
  redraw(host, () => h('div', {class: 'cards wide'}, sorted.map(offerCard)), {force});
}

// --- clocks ------------------------------------------------------------------

const refreshClocks = latestOnly(async (isLatest) => {
  try {
    const pages = await Promise.all(regions.map((region) =>
      listAll('CoordinatorService', 'ListWorklist', {parent: `regions/${region}`,
        dueWithin: `${30 * 86400}s`, pageSize: 200}, 'items', 5)));
    if (!isLatest()) return;
    const items = pages.flat().filter((item) => item.awaitedOrganisation === session.organisation);
    const host = $('#clocks-list');
    if (!items.length) {
      replace(host, h('p', {class: 'empty'}, t('provider.clocks.empty')));
    } else {
      replace(host, worklistTable(items, {id: 'provider-clocks', caption: t('provider.clocks.h2'),
        canPause: true, noticeEl: $('#clocks-notice'), onDone: (text) => {
          notice($('#clocks-notice'), 'ok', text);
          announce(text);
          refreshClocks();
        }}));
    }
    clearErrorNotice($('#clocks-notice'));
  } catch (err) {
    notice($('#clocks-notice'), 'error', err);
  }
});

// --- participants -------------------------------------------------------------

const ACTIONS = {
  ACTION_RECORD_CONTACT: {label: 'provider.act.contact', method: 'RecordContact', note: 'optional'},
  ACTION_START: {label: 'provider.act.start', method: 'StartReferral', note: 'optional', sus: 'in'},
  ACTION_RECORD_ATTENDANCE_DEVIATION: {label: 'provider.act.deviation', method: 'RecordAttendanceDeviation', note: 'required'},
  ACTION_COMPLETE: {label: 'provider.act.complete', method: 'CompleteReferral', note: 'other',
    reasons: 'provider.act.reasons', sus: 'out'},
  ACTION_EXIT: {label: 'provider.act.exit', method: 'ExitReferral', note: 'other',
    reasons: 'provider.act.reasons', sus: 'out', registrationError: true},
  ACTION_RECORD_FOLLOW_UP: {label: 'provider.act.followup', method: 'RecordFollowUp', note: 'other', reasons: 'provider.act.where'},
};

// At exit, "Felregistrering" hides the out-registration (a start recorded by
// mistake has nothing to register, and the broker asks for none), and says
// so to a screen reader.
function watchRegistrationError(form, susFields) {
  const hint = h('p', {class: 'hint', hidden: true}, t('sus.registrationError.hint'));
  susFields.before(hint);
  for (const box of form.querySelectorAll('input[name="reasons"]')) {
    box.addEventListener('change', () => {
      const on = checkedValues(form, 'reasons').includes(REGISTRATION_ERROR);
      if (on === susFields.hidden) return;
      susFields.hidden = on;
      hint.hidden = !on;
      announce(t(on ? 'sus.registrationError.on' : 'sus.registrationError.off'));
    });
  }
}

function actionForm(r, action) {
  const spec = ACTIONS[action];
  const noticeEl = h('div');
  const outcomes = spec.registrationError ? [...OUTCOMES, REGISTRATION_ERROR] : OUTCOMES;
  const susFields = spec.sus === 'in' ? inRegistrationFields() :
    (spec.sus === 'out' ? outRegistrationFields() : null);
  const form = h('form', {class: 'panel action-form', novalidate: true, dataset: {action}},
    h('h4', null, t(spec.label)),
    spec.reasons ? choiceGroup({legend: t(spec.reasons), name: 'reasons', field: 'outcome_reasons',
      options: outcomes.map((o) => [o, enumLabel(o)])}) : null,
    susFields,
    textField({label: spec.note === 'required' ? t('provider.act.noteRequired') : t('provider.act.note'),
      name: 'note', field: 'note', textarea: true, required: spec.note === 'required'}),
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, t(spec.label))));
  if (spec.registrationError) watchRegistrationError(form, susFields);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const note = valueOf(form, 'note');
    const reasons = spec.reasons ? checkedValues(form, 'reasons') : [];
    const errors = [];
    if (spec.note === 'required' && !note) errors.push({field: 'note', message: t('rule.required')});
    if (spec.reasons && !reasons.length) errors.push({field: 'outcome_reasons', message: t('rule.chooseAtLeastOne')});
    if (reasons.includes(REGISTRATION_ERROR) && reasons.length > 1) {
      errors.push({field: 'outcome_reasons', message: t('rule.registrationErrorAlone')});
    }
    if (reasons.includes('OUTCOME_REASON_OTHER') && !note) errors.push({field: 'note', message: t('rule.noteForOther')});
    const textError = checkText(note, {max: 2000});
    if (textError) errors.push({field: 'note', message: t(...textError)});
    const sus = susFields && !susFields.hidden ? collectSus(form, spec.sus, errors) : null;
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    clearErrors(form);
    const request = {name: r.name, note, etag: r.etag, requestId: requestId('act')};
    if (spec.reasons) request.outcomeReasons = reasons;
    if (sus) request.sus = sus;
    try {
      const changed = await rpc('ReferralService', spec.method, request);
      if (changed.updateTime) observeServerTime(changed.updateTime);
      notice($('#participants-notice'), 'ok', `${t(spec.label)}: ${t('provider.act.done')}`);
      announce(`${t(spec.label)}: ${t('provider.act.done')}`);
      await refreshAfterAction();
    } catch (err) {
      showRpcError(form, err, noticeEl, notice);
    }
  });
  return h('div', null, noticeEl, form);
}

function withdrawForm(r) {
  const noticeEl = h('div');
  const form = h('form', {class: 'panel action-form', novalidate: true, dataset: {action: 'ACTION_WITHDRAW_CONSENT'}},
    h('h4', null, t('provider.act.withdraw')),
    h('p', {class: 'hint'}, t('agency.withdraw.hint')),
    h('div', {class: 'choice', dataset: {field: 'confirm'}},
      h('input', {type: 'checkbox', id: `confirm-${shortId(r.name)}`, name: 'confirm'}),
      h('label', {for: `confirm-${shortId(r.name)}`}, t('agency.withdraw.confirm'))),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'danger'}, t('agency.withdraw.submit'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!valueOf(form, 'confirm')) {
      showErrors(form, [{field: 'confirm', message: t('rule.required')}]);
      return;
    }
    try {
      await rpc('ConsentService', 'WithdrawConsent', {
        name: (r.consent && r.consent.name) || r.name.replace('/referrals/', '/consents/'),
        recordedByPerson: session.person || '', requestId: requestId('withdraw')});
      announce(t('agency.withdrawn'));
      notice($('#participants-notice'), 'ok', t('agency.withdrawn'));
      await refreshAfterAction();
    } catch (err) {
      showRpcError(form, err, noticeEl, notice);
    }
  });
  return h('div', null, noticeEl, form);
}

const refreshParticipants = latestOnly(async (isLatest) => {
  try {
    const page = await rpc('ReferralService', 'ListReferrals', {parent: anyParent(), pageSize: 100,
      filter: {states: SERVED_STATES}});
    if (!isLatest()) return;
    participants = page.referrals || [];
    clearErrorNotice($('#participants-notice'));
    renderParticipants();
  } catch (err) {
    notice($('#participants-notice'), 'error', err);
  }
});

function renderParticipants({force = false} = {}) {
  const host = $('#participants-list');
  if (!participants.length) {
    doneEditing(host);  // no form left to keep
    replace(host, h('p', {class: 'empty'}, t('provider.participants.empty')));
    return;
  }
  redraw(host, () => h('div', {class: 'cards wide'}, participants.map((r) => {
    const allowed = r.allowedActions || [];
    const headingId = `p-${r.name.split('/').pop()}`;
    const forms = [
      ...Object.keys(ACTIONS).filter((a) => allowed.includes(a)).map((a) => actionForm(r, a)),
      allowed.includes('ACTION_WITHDRAW_CONSENT') ? withdrawForm(r) : null,
    ].filter(Boolean);
    const who = (r.participant && r.participant.pseudonym) ||
      (r.impulse && r.impulse.callBack && r.impulse.callBack.displayName) || shortId(r.name);
    return h('article', {class: 'card participant', 'aria-labelledby': headingId, dataset: {referral: r.name}},
      h('h3', {id: headingId}, who, ' ', stateBadge(r.state)),
      referralFacts(r),
      forms.length ? h('details', {open: openActions.has(r.name), ontoggle: (e) => {
        if (e.target.open) openActions.add(r.name); else openActions.delete(r.name);
      }},
        h('summary', null, t('provider.act.summary'), h('span', {class: 'visually-hidden'}, ` ${referralLabel(r)}`)),
        h('div', {class: 'action-grid'}, forms)) : null);
  })), {force});
}

// A referral named in the address (provider.html#referral=regions/13/
// referrals/ID), as far as this provider may see it; one it may not see is
// "not found", whether it exists or not.
async function openFromHash() {
  const match = /^#referral=(.+)$/.exec(location.hash);
  const host = $('#referral-detail');
  if (!match) {
    replace(host);
    return;
  }
  const name = decodeURIComponent(match[1]);
  try {
    const r = await rpc('ReferralService', 'GetReferral', {name, view: 'REFERRAL_VIEW_FULL'});
    const person = participantFacts(r.participant);
    replace(host, h('section', {class: 'card', 'aria-labelledby': 'detail-heading', dataset: {referral: r.name}},
      h('h2', {id: 'detail-heading', tabindex: '-1'}, t('agency.detail.h3', {id: shortId(r.name)})),
      referralFacts(r), person ? [h('h3', null, t('agency.participant.legend')), person] : null,
      historyTable(r)));
  } catch (err) {
    replace(host, h('section', {'aria-labelledby': 'detail-heading'},
      h('h2', {id: 'detail-heading', tabindex: '-1'}, t('agency.detail.h3', {id: shortId(name)})),
      h('div', {id: 'detail-notice'})));
    notice($('#detail-notice'), 'error', err);
  }
  $('#detail-heading').focus();
}

// After the person's own action: their form is sent, so the lists are
// drawn again whatever they held.
async function refreshAfterAction() {
  doneEditing($('#offers-list'));
  doneEditing($('#participants-list'));
  await refreshAll();
}

async function refreshAll() {
  await Promise.all([refreshOffers(), refreshClocks(), refreshParticipants()]);
}

const refreshOffersSoon = debounce(refreshOffers, 200);
const refreshParticipantsSoon = debounce(() => Promise.all([refreshParticipants(), refreshClocks()]), 300);
const refreshCapacitySoon = debounce(() => renderCapacity(session, myProviders), 300);

function onEvent(event) {
  if (event.providerOrganisation && event.providerOrganisation !== session.organisation) return;
  switch (event.type) {
    case 'EVENT_TYPE_OFFER_MADE':
      announce(t('provider.newOffer'));
      refreshOffersSoon();
      refreshParticipantsSoon();
      return;
    case 'EVENT_TYPE_CAPACITY_PUBLISHED':
    case 'EVENT_TYPE_COHORT_DECIDED':
      refreshCapacitySoon();
      return;
    default:
      if (event.type && event.type.startsWith('EVENT_TYPE_CLOCK_')) announce(describeEvent(event));
      refreshOffersSoon();
      refreshParticipantsSoon();
  }
}

async function main() {
  session = await bootDesk('provider', 'title.provider');
  try {
    await loadDirectory();
  } catch (err) {
    notice($('#page-notice'), 'error', err);
  }
  await Promise.all([refreshAll(), renderCapacity(session, myProviders), openFromHash()]);
  window.addEventListener('hashchange', openFromHash);
  startLive(session, onEvent, () => {
    refreshAll();
    renderCapacity(session, myProviders);
  });
  // The time left on holds counts down; and the held offers are fetched
  // again now and then, in case the live stream was down for a while.
  setInterval(() => {
    refreshOffers();
    for (const card of document.querySelectorAll('.offer')) {
      const offer = offers.find((o) => o.name === card.dataset.offer);
      const cell = card.querySelector('.hold-left strong');
      if (offer && cell) cell.textContent = timeLeft(offer.holdExpireTime);
    }
  }, 30000);
  onLanguageChange(() => {
    document.title = t('title.provider');
    renderOffers({force: true});
    renderParticipants({force: true});
    refreshClocks();
    renderCapacity(session, myProviders);
  });
}

main();
