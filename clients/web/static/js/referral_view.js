// How a referral reads on every desk: its facts, the participant as far as
// the caller may see, the case details, and its history. The broker has
// already cut what the caller's consent does not cover; what is absent is
// simply not shown.

import {h, lastSegment, shortId} from './dom.js';
import {enumLabel, t} from './i18n.js';
import {formatCivilDate, formatDateTime} from './time.js';
import {susSummary} from './sus.js';

// The broker's open states (broker/core/model/lifecycle.cc): RETURNED too, since
// a returned referral waits for its agency to resubmit or cancel it.
export const OPEN_STATES = ['REFERRAL_STATE_RECEIVED', 'REFERRAL_STATE_QUEUED',
  'REFERRAL_STATE_OFFERED', 'REFERRAL_STATE_ACCEPTED', 'REFERRAL_STATE_STARTED', 'REFERRAL_STATE_RETURNED'];

export function stateBadge(state) {
  return h('span', {class: 'badge state'}, enumLabel(state));
}

// Display names of providers and offerings, filled by the desks.
export const names = new Map();

export function displayName(resource) {
  if (!resource) return t('none');
  return names.get(resource) || lastSegment(resource);
}

function fact(label, ...value) {
  if (value.length === 0 || value[0] === undefined || value[0] === null || value[0] === '') return [];
  return [h('dt', null, label), h('dd', null, ...value)];
}

function list(values, label = enumLabel) {
  return (values || []).map(label).join(', ');
}

// The kind-specific details of a referral.
function detailFacts(r) {
  const sv = (key) => t(key);
  if (r.impulse) {
    const cb = r.impulse.callBack || {};
    return [
      ...fact(sv('agency.impulse.legend'), contactText(cb)),
      ...fact(sv('agency.impulse.kommun'), r.impulse.kommunCode),
      ...fact(sv('agency.impulse.need'), enumLabel(r.impulse.needCategory)),
    ];
  }
  if (r.activity) {
    return [
      ...fact(sv('agency.activity.type'), displayName(`activityTypes/${r.activity.activityType}`)),
      ...fact(sv('agency.activity.preferred'), r.activity.preferredProvider ? displayName(r.activity.preferredProvider) : ''),
      ...fact(sv('agency.activity.note'), r.activity.note),
    ];
  }
  if (r.rehabServiceOrder) {
    const o = r.rehabServiceOrder;
    return [
      ...fact(sv('agency.rehab.agreement'), displayName(o.frameworkAgreement)),
      ...fact(sv('agency.rehab.service'), o.service),
      ...fact(sv('agency.rehab.purpose'), o.planPurpose),
    ];
  }
  if (r.jointMapping) {
    return [
      ...fact(sv('agency.joint.counterpart'), enumLabel(r.jointMapping.counterpart)),
      ...fact(sv('agency.joint.reason'), r.jointMapping.reason),
    ];
  }
  if (r.teamHandover) {
    return [
      ...fact(sv('agency.team.team'), displayName(r.teamHandover.team)),
      ...fact(sv('agency.team.summary'), r.teamHandover.caseSummary),
    ];
  }
  return [];
}

// How to reach someone: name, unit, phone and e-mail, those given.
export function contactText(route) {
  const c = route || {};
  return [c.displayName, c.unit, c.phone, c.email].filter(Boolean).join(', ');
}

// The fact that the participant has protected personal data, with the
// route through which they are reached (the referral's referrer, or an
// offer's participant_contact); nothing when they have not. Shown first
// and marked, so that no one contacts the participant directly.
export function protectionFacts(isProtected, contact) {
  if (!isProtected) return [];
  const via = contactText(contact);
  return [h('dt', {class: 'protected'}, t('protected.label')),
    h('dd', {class: 'protected'}, h('strong', null,
      via ? t('protected.yesVia', {contact: via}) : t('protected.yesViaAgency')))];
}

// The participant's facts, or null when none may be seen.
export function participantFacts(participant) {
  if (!participant || !participant.pseudonym) return null;
  const a = participant.attributes || {};
  return h('dl', {class: 'facts'},
    ...fact(t('participant.reference'), participant.pseudonym),
    ...fact(t('agency.participant.age'), a.ageYears),
    ...fact(t('agency.participant.gender'), a.gender ? enumLabel(a.gender) : ''),
    ...fact(t('agency.participant.kommun'), a.kommunCode),
    ...fact(t('agency.participant.benefits'), list(a.benefitStatuses)),
    ...fact(t('agency.participant.daysLeft'), a.sicknessInsuranceDaysLeft),
    ...fact(t('agency.participant.hours'), a.hoursPerWeek),
    ...fact(t('participant.languages'), (a.languages || []).join(', ')),
    ...fact(t('agency.participant.interpreter'), a.needsInterpreter ? t('yes') : ''),
    ...fact(t('agency.participant.exclusions'), list(a.exclusions)));
}

// A joint referral (samordnad insats): its funder and lead, and each other
// agency with its part and what the consent gives it; nothing otherwise.
export function jointFacts(r) {
  const joint = r.joint;
  if (!joint || !joint.parties) return [];
  const parties = h('ul', {class: 'joint-parties'}, ...joint.parties.map((p) =>
    h('li', null, t('joint.party', {
      organisation: p.organisation,
      role: enumLabel(p.role),
      sees: (p.dataCategories || []).length ?
        list(p.dataCategories) : t('joint.seesNothing'),
    }))));
  return [
    ...fact(t('joint.label'), t('joint.fundedLed', {
      funder: joint.fundingOrganisation, lead: r.referringOrganisation})),
    ...fact(t('joint.parties'), parties),
  ];
}

// The case as the provider needs it: what is asked for, and when it came.
export function caseFacts(r) {
  return h('dl', {class: 'facts'},
    ...fact(t('col.kind'), enumLabel(r.kind)),
    ...fact(t('col.created'), formatDateTime(r.createTime)),
    ...fact(t('col.agency'), r.referringOrganisation),
    ...jointFacts(r),
    ...detailFacts(r));
}

export function referralFacts(r) {
  return h('dl', {class: 'facts'},
    ...protectionFacts(r.protectedPersonalData, r.referrer),
    ...fact(t('col.kind'), enumLabel(r.kind)),
    ...fact(t('col.state'), stateBadge(r.state)),
    ...fact(t('col.created'), formatDateTime(r.createTime)),
    ...fact(t('col.provider'), r.assignedProvider ? displayName(r.assignedProvider) : ''),
    ...fact(t('col.offering'), r.assignedOffering ? displayName(r.assignedOffering) : ''),
    ...fact(t('provider.offer.cohort'), r.cohort ? lastSegment(r.cohort) : ''),
    ...jointFacts(r),
    ...detailFacts(r));
}

function transitionNotes(tr) {
  const out = [];
  if (tr.cancelReason) out.push(enumLabel(tr.cancelReason));
  if (tr.declineReason) out.push(enumLabel(tr.declineReason));
  if (tr.outcomeReasons && tr.outcomeReasons.length) out.push(list(tr.outcomeReasons));
  // What SUS registers at the start and the end, where the consent lets the
  // reader see outcome data (the broker leaves it out otherwise).
  const sus = susSummary(tr.sus, tr.action);
  if (sus) out.push(sus);
  if (tr.action === 'ACTION_SET_PROTECTED_PERSONAL_DATA') {
    out.push(t(tr.protectedPersonalData ? 'protected.history.set' : 'protected.history.lifted'));
  }
  if (tr.note) out.push(tr.note);
  if (tr.reasons && tr.reasons.length) out.push(tr.reasons.join('; '));
  return out.join(' · ');
}

export function historyTable(r, captionText) {
  const rows = (r.history || []).map((tr) => h('tr', null,
    h('td', null, formatDateTime(tr.time)),
    h('td', null, enumLabel(tr.action)),
    h('td', null, enumLabel(tr.toState)),
    h('td', null, tr.actor ? `${tr.actor.organisation || ''} (${enumLabel(tr.actor.role)})` : ''),
    h('td', null, transitionNotes(tr))));
  return h('div', {class: 'table-wrap'}, h('table', null,
    h('caption', null, captionText || t('agency.detail.history')),
    h('thead', null, h('tr', null,
      h('th', {scope: 'col'}, t('col.time')),
      h('th', {scope: 'col'}, t('col.action')),
      h('th', {scope: 'col'}, t('col.state')),
      h('th', {scope: 'col'}, t('col.by')),
      h('th', {scope: 'col'}, t('agency.cancel.note')))),
    h('tbody', null, rows)));
}

export function referralLabel(r) {
  return `${enumLabel(r.kind)} ${shortId(r.name)}`;
}

export {formatCivilDate};
