// The agency's form for a new referral, one set of fields per kind: an
// impulse has no personal fields at all; every other kind names its
// participant by pseudonym and carries the consent. Checks mirror the
// broker's rules (validate.js); the broker's own field errors are shown at
// the field they name (every control carries its request path in
// data-field). A participant with protected personal data (the box in the
// participant's fieldset) is sent without kommun and with a required
// referrer: the provider reaches them through the agency. An activity
// referral may be a joint one (samordnad insats): the funding
// samordningsförbund and 1..4 other agencies, each with its part and what
// the consent lets it see (a consent scope of its own).

import {requestId, rpc} from './api.js';
import {$, $all, h} from './dom.js';
import {enumLabel, t} from './i18n.js';
import {checkedValues, choiceGroup, clearErrors, selectField, showErrors,
  showRpcError, textField, valueOf} from './forms.js';
import {dayToRfc3339, serverNow, todayInput, observeServerTime} from './time.js';
import {checkEmail, checkIntRange, checkKommun, checkPersonnummer, checkPhone,
  checkPseudonym, checkText, parseLanguages} from './validate.js';
import {announce, notice} from './desk.js';

const KINDS = [
  ['activity', 'agency.kind.activity', 'REFERRAL_KIND_ACTIVITY'],
  ['impulse', 'agency.kind.impulse', 'REFERRAL_KIND_IMPULSE'],
  ['rehab', 'agency.kind.rehab', 'REFERRAL_KIND_REHAB_SERVICE_ORDER'],
  ['joint', 'agency.kind.joint', 'REFERRAL_KIND_JOINT_MAPPING'],
  ['team', 'agency.kind.team', 'REFERRAL_KIND_TEAM_HANDOVER'],
];
const PERSONAL_KINDS = 'activity rehab joint team';

// Kommuner of the sample regions (SCB kommunkoder), offered as suggestions.
const KOMMUNER = {
  13: [['1315', 'Hylte'], ['1380', 'Halmstad'], ['1381', 'Laholm'], ['1382', 'Falkenberg'],
    ['1383', 'Varberg'], ['1384', 'Kungsbacka']],
  19: [['1904', 'Skinnskatteberg'], ['1907', 'Surahammar'], ['1960', 'Kungsör'],
    ['1961', 'Hallstahammar'], ['1962', 'Norberg'], ['1980', 'Västerås'], ['1981', 'Sala'],
    ['1982', 'Fagersta'], ['1983', 'Köping'], ['1984', 'Arboga']],
};

const NEEDS = ['NEED_CATEGORY_COORDINATED_REHABILITATION', 'NEED_CATEGORY_SICK_WITHOUT_QUALIFYING_INCOME',
  'NEED_CATEGORY_SICKNESS_BENEFIT_ENTITLEMENT', 'NEED_CATEGORY_ACTIVITY_COMPENSATION', 'NEED_CATEGORY_OTHER'];
const BENEFITS = ['BENEFIT_STATUS_SICKNESS_BENEFIT', 'BENEFIT_STATUS_SICKNESS_COMPENSATION',
  'BENEFIT_STATUS_ACTIVITY_COMPENSATION', 'BENEFIT_STATUS_ACTIVITY_SUPPORT',
  'BENEFIT_STATUS_FINANCIAL_ASSISTANCE', 'BENEFIT_STATUS_NO_QUALIFYING_INCOME', 'BENEFIT_STATUS_NONE'];
const EXCLUSIONS = ['EXCLUSION_ACTIVE_SUBSTANCE_ABUSE', 'EXCLUSION_ONGOING_VOCATIONAL_REHABILITATION'];
const CATEGORIES = ['DATA_CATEGORY_ELIGIBILITY', 'DATA_CATEGORY_CASE_DETAILS', 'DATA_CATEGORY_OUTCOME'];
const JOINT_ROLES = ['JOINT_PARTY_ROLE_CO_REFERRER', 'JOINT_PARTY_ROLE_INFORMED'];
const MAX_JOINT_PARTIES = 4;
const ORGANISATION_ID = /^[a-z0-9-]{1,64}$/;

const enumOptions = (values, empty) =>
  [...(empty ? [['', empty]] : []), ...values.map((v) => [v, enumLabel(v)])];

function kommunField({label, name, field, region, value = '', required = false}) {
  const wrapper = textField({label, name, field, value, inputmode: 'numeric', cls: 'short', required,
    hint: (KOMMUNER[region] || []).map(([c, n]) => `${c} ${n}`).join(', ') || t('rule.kommun')});
  const input = $('input', wrapper);
  const listId = `${input.id}-list`;
  input.setAttribute('list', listId);
  wrapper.appendChild(h('datalist', {id: listId},
    (KOMMUNER[region] || []).map(([code, kommun]) => h('option', {value: code}, kommun))));
  return wrapper;
}

// The person's own name, without the unit the users file adds in brackets.
export function ownNameOf(session) {
  return (session.name || '').replace(/\s*\(.*\)\s*$/, '');
}

// The form; `catalog` holds activityTypes, providers and agreements.
export function buildReferralForm(session, catalog, {onCreated, noticeEl}) {
  const region = session.region;
  const ownName = ownNameOf(session);
  let pendingRequestId = requestId('web');
  const activityTypes = catalog.activityTypes.filter((a) =>
    (a.referralKinds || []).includes('REFERRAL_KIND_ACTIVITY'));
  const regionProviders = catalog.providers.filter((p) => (p.regions || []).includes(region));
  const teams = regionProviders.filter((p) => p.kind === 'PROVIDER_KIND_AGENCY_TEAM' &&
    p.agencyKind === 'AGENCY_KIND_SAMORDNINGSFORBUND');
  const agreements = catalog.agreements.filter((a) => (a.regions || []).includes(region));

  const kindGroup = choiceGroup({legend: t('agency.kind.legend'), name: 'kind', type: 'radio',
    field: 'referral.details', checked: ['activity'],
    options: KINDS.map(([v, key]) => [v, t(key), t(`${key}.hint`)])});

  const activity = h('fieldset', {dataset: {kinds: 'activity'}},
    h('legend', null, t('agency.activity.legend')),
    selectField({label: t('agency.activity.type'), name: 'activityType', required: true,
      field: 'referral.activity.activity_type',
      options: [['', '–'], ...activityTypes.map((a) => [a.name.split('/').pop(), a.displayName])]}),
    selectField({label: t('agency.activity.preferred'), name: 'activityPreferred',
      field: 'referral.activity.preferred_provider',
      options: [['', '–'], ...regionProviders.filter((p) => p.kind !== 'PROVIDER_KIND_AGENCY_TEAM' &&
        p.kind !== 'PROVIDER_KIND_REHAB_SUPPLIER').map((p) => [p.name, p.displayName])]}),
    textField({label: t('agency.activity.note'), name: 'activityNote', textarea: true,
      field: 'referral.activity.note'}));

  const impulse = h('div', {dataset: {kinds: 'impulse'}},
    h('p', {class: 'notice'}, t('agency.impulse.notice')),
    h('fieldset', {dataset: {field: 'referral.impulse.call_back'}},
      h('legend', null, t('agency.impulse.legend')),
      h('div', {class: 'grid-2'},
        textField({label: t('agency.impulse.name'), name: 'cbName', required: true,
          field: 'referral.impulse.call_back.display_name', value: ownName, autocomplete: 'name'}),
        textField({label: t('agency.impulse.unit'), name: 'cbUnit',
          field: 'referral.impulse.call_back.unit'}),
        textField({label: t('agency.impulse.phone'), name: 'cbPhone', type: 'tel',
          field: 'referral.impulse.call_back.phone', hint: t('agency.impulse.phoneHint'), autocomplete: 'tel'}),
        textField({label: t('agency.impulse.email'), name: 'cbEmail', type: 'email',
          field: 'referral.impulse.call_back.email', autocomplete: 'email'}))),
    h('fieldset', null, h('legend', null, t('agency.kind.impulse')),
      kommunField({label: t('agency.impulse.kommun'), name: 'impulseKommun', region, required: true,
        field: 'referral.impulse.kommun_code'}),
      selectField({label: t('agency.impulse.need'), name: 'need', required: true,
        field: 'referral.impulse.need_category', options: enumOptions(NEEDS, '–')})));

  const rehab = h('fieldset', {dataset: {kinds: 'rehab'}},
    h('legend', null, t('agency.rehab.legend')),
    selectField({label: t('agency.rehab.agreement'), name: 'agreement', required: true,
      field: 'referral.rehab_service_order.framework_agreement',
      options: [['', '–'], ...agreements.map((a) => [a.name, a.displayName])],
      value: agreements.length === 1 ? agreements[0].name : ''}),
    selectField({label: t('agency.rehab.service'), name: 'service', required: true,
      field: 'referral.rehab_service_order.service',
      options: [['', '–'], ...[...new Set(agreements.flatMap((a) => a.services || []))].map((s) => [s, s])]}),
    textField({label: t('agency.rehab.purpose'), name: 'planPurpose', textarea: true, required: true,
      field: 'referral.rehab_service_order.plan_purpose'}),
    h('div', {class: 'field'}, h('div', {class: 'choice'},
      h('input', {type: 'checkbox', id: 'doctor-confirmed', name: 'doctorConfirmed',
        dataset: {field: 'referral.rehab_service_order.doctor_confirmed_plan'}}),
      h('label', {for: 'doctor-confirmed'}, `${t('agency.rehab.doctor')} *`))),
    selectField({label: t('agency.rehab.preferred'), name: 'rehabPreferred',
      field: 'referral.rehab_service_order.preferred_provider',
      options: [['', '–'], ...regionProviders.filter((p) => p.kind === 'PROVIDER_KIND_REHAB_SUPPLIER')
        .map((p) => [p.name, p.displayName])]}));

  const joint = h('fieldset', {dataset: {kinds: 'joint'}},
    h('legend', null, t('agency.joint.legend')),
    choiceGroup({legend: t('agency.joint.counterpart'), name: 'counterpart', type: 'radio',
      field: 'referral.joint_mapping.counterpart', inline: true,
      checked: [session.organisation.startsWith('af-') ? 'AGENCY_KIND_FORSAKRINGSKASSAN' :
        'AGENCY_KIND_ARBETSFORMEDLINGEN'],
      options: enumOptions(['AGENCY_KIND_FORSAKRINGSKASSAN', 'AGENCY_KIND_ARBETSFORMEDLINGEN'])}),
    textField({label: t('agency.joint.reason'), name: 'jointReason', textarea: true, required: true,
      field: 'referral.joint_mapping.reason'}));

  // A joint referral (samordnad insats); `joint` is the joint mapping's.
  const jointReferral = jointSection(session, regionProviders);

  const team = h('fieldset', {dataset: {kinds: 'team'}},
    h('legend', null, t('agency.team.legend')),
    selectField({label: t('agency.team.team'), name: 'team', required: true,
      field: 'referral.team_handover.team',
      options: [['', '–'], ...teams.map((p) => [p.name, p.displayName])],
      value: teams.length === 1 ? teams[0].name : ''}),
    textField({label: t('agency.team.summary'), name: 'caseSummary', textarea: true, required: true,
      field: 'referral.team_handover.case_summary'}));

  const referrerHint = h('p', {class: 'hint', id: 'referrer-protected-hint', hidden: true},
    t('agency.referrer.protectedHint'));
  const referrer = h('fieldset', {dataset: {kinds: PERSONAL_KINDS, field: 'referral.referrer'}},
    h('legend', null, t('agency.referrer.legend')),
    referrerHint,
    h('div', {class: 'grid-2'},
      textField({label: t('agency.referrer.name'), name: 'refName', value: ownName,
        field: 'referral.referrer.display_name', autocomplete: 'name'}),
      textField({label: t('agency.referrer.unit'), name: 'refUnit', field: 'referral.referrer.unit'}),
      textField({label: t('agency.referrer.phone'), name: 'refPhone', type: 'tel',
        field: 'referral.referrer.phone', autocomplete: 'tel'}),
      textField({label: t('agency.referrer.email'), name: 'refEmail', type: 'email',
        field: 'referral.referrer.email', autocomplete: 'email'})));

  const pnr = textField({label: t('agency.participant.pnr'), name: 'pnr',
    field: 'referral.participant.personal_identity_number',
    hint: t('agency.participant.pnr.hintOptional')});
  // Shown when the broker says the participant already has an open
  // referral to the same activity (ALREADY_EXISTS): the reason lets a
  // second one through, and is kept with it.
  const secondReason = textField({label: t('agency.participant.secondReason'), name: 'secondReason',
    field: 'referral.second_referral_reason', textarea: true, hint: t('agency.participant.secondReason.hint')});
  secondReason.id = 'second-reason';
  secondReason.hidden = true;
  // Protected personal data: never for an impulse, which names no one.
  const protection = h('div', {class: 'field', dataset: {kinds: PERSONAL_KINDS}},
    h('div', {class: 'choice'},
      h('input', {type: 'checkbox', id: 'protected-data', name: 'protectedData',
        'aria-describedby': 'protected-data-hint',
        dataset: {field: 'referral.protected_personal_data'}}),
      h('label', {for: 'protected-data'}, t('agency.participant.protected'),
        h('span', {class: 'hint', id: 'protected-data-hint'}, t('agency.participant.protected.hint')))));
  const kommun = kommunField({label: t('agency.participant.kommun'), name: 'kommun', region,
    field: 'referral.participant.attributes.kommun_code'});
  const participant = h('fieldset', {dataset: {kinds: PERSONAL_KINDS, field: 'referral.participant'}},
    h('legend', null, t('agency.participant.legend')),
    textField({label: t('agency.participant.pseudonym'), name: 'pseudonym', required: true,
      field: 'referral.participant.pseudonym', hint: t('agency.participant.pseudonym.hint')}),
    pnr,
    secondReason,
    protection,
    h('p', {class: 'hint'}, t('agency.participant.attrs.hint')),
    h('div', {class: 'grid-2'},
      textField({label: t('agency.participant.age'), name: 'age', inputmode: 'numeric', cls: 'short',
        field: 'referral.participant.attributes.age_years', hint: '16–69'}),
      selectField({label: t('agency.participant.gender'), name: 'gender',
        field: 'referral.participant.attributes.gender',
        options: enumOptions(['GENDER_FEMALE', 'GENDER_MALE', 'GENDER_OTHER'], t('GENDER_UNSPECIFIED'))}),
      kommun,
      textField({label: t('agency.participant.daysLeft'), name: 'daysLeft', inputmode: 'numeric',
        cls: 'short', field: 'referral.participant.attributes.sickness_insurance_days_left', hint: '0–914'}),
      textField({label: t('agency.participant.hours'), name: 'hours', inputmode: 'numeric', cls: 'short',
        field: 'referral.participant.attributes.hours_per_week', hint: '1–40'}),
      textField({label: t('agency.participant.languages'), name: 'languages', value: 'sv',
        field: 'referral.participant.attributes.languages'})),
    h('div', {class: 'choice'},
      h('input', {type: 'checkbox', id: 'needs-interpreter', name: 'interpreter',
        dataset: {field: 'referral.participant.attributes.needs_interpreter'}}),
      h('label', {for: 'needs-interpreter'}, t('agency.participant.interpreter'))),
    choiceGroup({legend: t('agency.participant.benefits'), name: 'benefits',
      field: 'referral.participant.attributes.benefit_statuses', options: enumOptions(BENEFITS)}),
    choiceGroup({legend: t('agency.participant.exclusions'), name: 'exclusions',
      field: 'referral.participant.attributes.exclusions', options: enumOptions(EXCLUSIONS)}));

  const scopeA = choiceGroup({legend: t('agency.consent.provider'), name: 'scopeA',
    options: enumOptions(CATEGORIES), checked: ['DATA_CATEGORY_ELIGIBILITY', 'DATA_CATEGORY_CASE_DETAILS']});
  const scopeB = choiceGroup({legend: t('agency.consent.coordinators'), name: 'scopeB',
    options: enumOptions(CATEGORIES), checked: ['DATA_CATEGORY_OUTCOME']});
  const consent = h('fieldset', {dataset: {kinds: PERSONAL_KINDS, field: 'referral.consent'}},
    h('legend', null, t('agency.consent.legend')),
    h('p', {class: 'hint'}, t('agency.consent.hint')),
    h('div', {class: 'grid-2'},
      selectField({label: t('agency.consent.purpose'), name: 'purpose', required: true,
        field: 'referral.consent.purpose',
        options: enumOptions(['CONSENT_PURPOSE_COORDINATED_REHABILITATION', 'CONSENT_PURPOSE_JOINT_MAPPING',
          'CONSENT_PURPOSE_FOLLOW_UP'])}),
      choiceGroup({legend: t('agency.consent.form'), name: 'consentForm', type: 'radio', inline: true,
        field: 'referral.consent.form', checked: ['CONSENT_FORM_WRITTEN'],
        options: enumOptions(['CONSENT_FORM_WRITTEN', 'CONSENT_FORM_ORAL'])}),
      textField({label: t('agency.consent.start'), name: 'consentStart', type: 'date', required: true,
        field: 'referral.consent.start_time', value: todayInput()}),
      textField({label: t('agency.consent.end'), name: 'consentEnd', type: 'date',
        field: 'referral.consent.end_time'})),
    h('fieldset', {dataset: {field: 'referral.consent.scopes'}, class: 'scopes'},
      h('legend', null, t('agency.consent.scopes')),
      scopeA, scopeB));

  const form = h('form', {id: 'referral-form', method: 'post', action: '#', novalidate: true},
    kindGroup, activity, jointReferral, impulse, rehab, joint, team, referrer, participant, consent,
    h('div', {class: 'actions'}, h('button', {type: 'submit', id: 'referral-submit'}, t('agency.submit'))));

  const kind = () => valueOf(form, 'kind') || 'activity';
  const showKind = () => {
    const k = kind();
    for (const el of $all('[data-kinds]', form)) el.hidden = !el.dataset.kinds.split(' ').includes(k);
    $('legend', scopeA).textContent = t(k === 'joint' ? 'agency.consent.counterpart' : 'agency.consent.provider');
    const hint = $('.hint', pnr);
    hint.textContent = t(k === 'joint' ? 'agency.participant.pnr.hintRequired' : 'agency.participant.pnr.hintOptional');
    $('label', pnr).textContent = `${t('agency.participant.pnr')}${k === 'joint' ? ' *' : ''}`;
    const purpose = form.querySelector('[name="purpose"]');
    purpose.value = k === 'joint' ? 'CONSENT_PURPOSE_JOINT_MAPPING' : 'CONSENT_PURPOSE_COORDINATED_REHABILITATION';
    clearErrors(form);
  };
  for (const radio of $all('input[name="kind"]', form)) radio.addEventListener('change', showKind);
  // Protected: no kommun is kept (cleared and hidden; given back if the box
  // is unticked again, since it never left the browser), and the referrer
  // becomes required: name, and phone or e-mail.
  let keptKommun = '';
  const showProtection = () => {
    const on = valueOf(form, 'protectedData');
    const kommunInput = $('input', kommun);
    if (on && !kommun.hidden) {
      keptKommun = kommunInput.value;
      kommunInput.value = '';
    } else if (!on && kommun.hidden) {
      kommunInput.value = keptKommun;
    }
    kommun.hidden = on;
    referrerHint.hidden = !on;
    const labels = [['refName', on ? 'agency.impulse.name' : 'agency.referrer.name', true],
      ['refPhone', on ? 'agency.impulse.phone' : 'agency.referrer.phone', false],
      ['refEmail', on ? 'agency.impulse.email' : 'agency.referrer.email', false]];
    for (const [name, key, required] of labels) {
      const input = form.querySelector(`[name="${name}"]`);
      input.labels[0].textContent = `${t(key)}${on && required ? ' *' : ''}`;
      if (on && required) input.setAttribute('aria-required', 'true');
      else input.removeAttribute('aria-required');
    }
    const fieldset = referrerHint.closest('fieldset');
    if (on) fieldset.setAttribute('aria-describedby', referrerHint.id);
    else fieldset.removeAttribute('aria-describedby');
  };
  $('#protected-data', form).addEventListener('change', () => {
    showProtection();
    // What changed elsewhere in the form, said to a screen reader user.
    announce(t(valueOf(form, 'protectedData') ? 'agency.participant.protected.on' :
      'agency.participant.protected.off'));
  });
  form.addEventListener('input', () => {
    // A changed body needs a new request id; a retry of the same body keeps it.
    pendingRequestId = requestId('web');
  });
  showKind();

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (noticeEl) noticeEl.replaceChildren();
    const {referral, errors} = collect(form, kind(), region, session);
    if (errors.length && form.dataset.clientChecks !== 'off') {
      showErrors(form, errors);
      return;
    }
    clearErrors(form);
    const button = $('#referral-submit', form);
    button.disabled = true;
    try {
      const created = await rpc('ReferralService', 'CreateReferral', {
        parent: `regions/${region}`, referral, requestId: pendingRequestId});
      if (created.updateTime) observeServerTime(created.updateTime);
      pendingRequestId = requestId('web');
      onCreated(created, form);
    } catch (err) {
      showRpcError(form, err, noticeEl, notice);
      if (err.code === 'already_exists' && secondReason.hidden) {
        secondReason.hidden = false;
        $('textarea', secondReason).focus();
      }
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// The joint referral's part of the form (shown for an activity referral):
// a box, and once it is ticked the funder and the parties, added and
// removed one at a time (each a fieldset "Part n" whose controls carry the
// request paths of referral.joint.parties[n-1]).
function jointSection(session, regionProviders) {
  const agencies = [...new Set(regionProviders
    .filter((p) => p.agencyKind && p.agencyKind !== 'AGENCY_KIND_SAMORDNINGSFORBUND' &&
      p.organisation && p.organisation !== session.organisation)
    .map((p) => p.organisation))].sort();
  const parties = h('div', {class: 'joint-parties-form'});
  const add = h('button', {type: 'button', id: 'joint-add', class: 'secondary'}, t('agency.jointRef.add'));
  const body = h('div', {id: 'joint-body', hidden: true},
    textField({label: t('agency.jointRef.funder'), name: 'jointFunder', required: true,
      field: 'referral.joint.funding_organisation', hint: t('agency.jointRef.funderHint')}),
    h('datalist', {id: 'joint-agencies'}, agencies.map((o) => h('option', {value: o}))),
    parties, add);
  const box = h('input', {type: 'checkbox', id: 'joint-on', name: 'jointOn',
    'aria-describedby': 'joint-on-hint', 'aria-controls': 'joint-body'});
  const fieldset = h('fieldset', {dataset: {kinds: 'activity', field: 'referral.joint'}},
    h('legend', null, t('agency.jointRef.legend')),
    h('div', {class: 'choice'}, box,
      h('label', {for: 'joint-on'}, t('agency.jointRef.on'),
        h('span', {class: 'hint', id: 'joint-on-hint'}, t('agency.jointRef.onHint')))),
    body);

  let made = 0;  // names stay unique as parties come and go
  const rows = () => $all('.joint-party', parties);
  // Each party's legend, request paths and buttons as its place says.
  const renumber = () => {
    const all = rows();
    all.forEach((row, i) => {
      const n = i + 1;
      $('legend', row).textContent = t('agency.jointRef.party', {n});
      $('input[type="text"]', row).dataset.field = `referral.joint.parties[${i}].organisation`;
      $('.joint-role', row).dataset.field = `referral.joint.parties[${i}].role`;
      $('.joint-sees', row).dataset.field = `referral.joint.parties[${i}].data_categories`;
      const remove = $('.joint-remove', row);
      remove.textContent = t('agency.jointRef.remove', {n});
      remove.hidden = all.length === 1;
    });
    add.hidden = all.length >= MAX_JOINT_PARTIES;
  };
  const addParty = () => {
    made += 1;
    const organisation = textField({label: t('agency.jointRef.organisation'), name: `jointOrg${made}`,
      required: true, hint: t('agency.jointRef.organisationHint')});
    $('input', organisation).setAttribute('list', 'joint-agencies');
    const role = choiceGroup({legend: t('agency.jointRef.role'), name: `jointRole${made}`, type: 'radio',
      inline: true, checked: [JOINT_ROLES[0]],
      options: JOINT_ROLES.map((r) => [r, enumLabel(r), t(`agency.jointRef.${r}`)])});
    role.classList.add('joint-role');
    const sees = choiceGroup({legend: t('agency.jointRef.sees'), name: `jointSees${made}`,
      options: enumOptions(CATEGORIES), checked: ['DATA_CATEGORY_OUTCOME']});
    sees.classList.add('joint-sees');
    const row = h('fieldset', {class: 'joint-party', dataset: {party: String(made)}},
      h('legend', null, ''), organisation, role, sees,
      h('button', {type: 'button', class: 'secondary joint-remove', onclick: () => {
        row.remove();
        renumber();
        announce(t('agency.jointRef.removed'));
        (add.hidden ? $('input', rows()[0]) : add).focus();
      }}, ''));
    parties.appendChild(row);
    renumber();
    return row;
  };
  add.addEventListener('click', () => {
    const row = addParty();
    announce(t('agency.jointRef.added', {n: rows().length}));
    $('input', row).focus();
  });
  box.addEventListener('change', () => {
    body.hidden = !box.checked;
    if (box.checked && !rows().length) addParty();
  });
  return fieldset;
}

// The joint referral of the form, if its box is ticked (an activity
// referral only): referral.joint, and a consent scope for each party.
function collectJoint(form, session, err) {
  const v = (name) => valueOf(form, name);
  if (!v('jointOn')) return null;
  const fundingOrganisation = v('jointFunder');
  if (!ORGANISATION_ID.test(fundingOrganisation)) {
    err('referral.joint.funding_organisation', fundingOrganisation ? 'rule.organisationId' : 'rule.required');
  }
  const parties = [];
  const scopes = [];
  $all('.joint-party', form).forEach((row, i) => {
    const n = row.dataset.party;
    const P = `referral.joint.parties[${i}]`;
    const organisation = v(`jointOrg${n}`);
    if (!organisation) {
      err(`${P}.organisation`, 'rule.required');
    } else if (!ORGANISATION_ID.test(organisation)) {
      err(`${P}.organisation`, 'rule.organisationId');
    } else if (organisation === session.organisation) {
      err(`${P}.organisation`, 'rule.jointNotLead');
    } else if (parties.some((p) => p.organisation === organisation)) {
      err(`${P}.organisation`, 'rule.jointTwice');
    }
    const sees = checkedValues(row, `jointSees${n}`);
    if (!sees.length) err(`${P}.data_categories`, 'rule.jointSees');
    parties.push({organisation, role: v(`jointRole${n}`)});
    scopes.push({organisation, dataCategories: sees});
  });
  if (v('protectedData')) err('referral.joint', 'rule.jointProtected');
  return {joint: {fundingOrganisation, parties}, scopes};
}

// The request's referral from the form, and the rules it breaks.
function collect(form, kind, region, session) {
  const errors = [];
  const err = (field, result) => {
    if (!result) return;
    const [key, params] = Array.isArray(result) ? result : [result];
    errors.push({field, message: t(key, params)});
  };
  const v = (name) => valueOf(form, name);
  const referral = {};

  if (kind === 'impulse') {
    const callBack = {displayName: v('cbName'), unit: v('cbUnit'), phone: v('cbPhone'), email: v('cbEmail')};
    const P = 'referral.impulse.call_back';
    err(`${P}.display_name`, checkText(callBack.displayName, {min: 1, max: 200, free: false}));
    err(`${P}.unit`, checkText(callBack.unit, {max: 200, free: false}));
    if (!callBack.phone && !callBack.email) err(`${P}.phone`, 'rule.phoneOrEmail');
    if (callBack.phone) err(`${P}.phone`, checkPhone(callBack.phone));
    if (callBack.email) err(`${P}.email`, checkEmail(callBack.email));
    const kommunCode = v('impulseKommun');
    err('referral.impulse.kommun_code', kommunCode ? checkKommun(kommunCode, region) : 'rule.required');
    const needCategory = v('need');
    if (!needCategory) err('referral.impulse.need_category', 'rule.chooseOne');
    for (const key of Object.keys(callBack)) if (!callBack[key]) delete callBack[key];
    referral.impulse = {callBack, kommunCode, needCategory};
    return {referral, errors};
  }

  let joint = null;
  if (kind === 'activity') {
    joint = collectJoint(form, session, err);
    if (joint) referral.joint = joint.joint;
    const activity = {activityType: v('activityType')};
    if (!activity.activityType) err('referral.activity.activity_type', 'rule.chooseOne');
    if (v('activityPreferred')) activity.preferredProvider = v('activityPreferred');
    if (v('activityNote')) activity.note = v('activityNote');
    err('referral.activity.note', checkText(v('activityNote'), {max: 2000}));
    referral.activity = activity;
  } else if (kind === 'rehab') {
    const order = {frameworkAgreement: v('agreement'), service: v('service'),
      planPurpose: v('planPurpose'), doctorConfirmedPlan: v('doctorConfirmed')};
    const P = 'referral.rehab_service_order';
    if (!order.frameworkAgreement) err(`${P}.framework_agreement`, 'rule.chooseOne');
    if (!order.service) err(`${P}.service`, 'rule.chooseOne');
    err(`${P}.plan_purpose`, checkText(order.planPurpose, {min: 1, max: 2000}));
    if (!order.doctorConfirmedPlan) err(`${P}.doctor_confirmed_plan`, 'rule.doctor');
    if (v('rehabPreferred')) order.preferredProvider = v('rehabPreferred');
    referral.rehabServiceOrder = order;
  } else if (kind === 'joint') {
    const mapping = {counterpart: v('counterpart'), reason: v('jointReason')};
    if (!mapping.counterpart) err('referral.joint_mapping.counterpart', 'rule.chooseOne');
    err('referral.joint_mapping.reason', checkText(mapping.reason, {min: 1, max: 2000}));
    referral.jointMapping = mapping;
  } else if (kind === 'team') {
    const handover = {team: v('team'), caseSummary: v('caseSummary')};
    if (!handover.team) err('referral.team_handover.team', 'rule.chooseOne');
    err('referral.team_handover.case_summary', checkText(handover.caseSummary, {min: 1, max: 4000}));
    referral.teamHandover = handover;
  }

  // The referrer: optional, but checked when given; required for a
  // participant with protected personal data (the provider's only route to
  // them), as the broker requires it.
  const isProtected = v('protectedData') === true;
  if (isProtected) referral.protectedPersonalData = true;
  const referrer = {displayName: v('refName'), unit: v('refUnit'), phone: v('refPhone'), email: v('refEmail')};
  if (isProtected && !referrer.displayName) {
    err('referral.referrer.display_name', 'rule.protectedReferrer');
  } else {
    err('referral.referrer.display_name', checkText(referrer.displayName, {max: 200, free: false}));
  }
  if (isProtected && !referrer.phone && !referrer.email) err('referral.referrer.phone', 'rule.protectedReach');
  if (referrer.phone) err('referral.referrer.phone', checkPhone(referrer.phone));
  if (referrer.email) err('referral.referrer.email', checkEmail(referrer.email));
  for (const key of Object.keys(referrer)) if (!referrer[key]) delete referrer[key];
  if (Object.keys(referrer).length) referral.referrer = referrer;

  // The participant.
  const A = 'referral.participant.attributes';
  const participant = {pseudonym: v('pseudonym'), attributes: {}};
  if (v('secondReason')) referral.secondReferralReason = v('secondReason');
  err('referral.participant.pseudonym', checkPseudonym(participant.pseudonym));
  const pnr = v('pnr');
  if (pnr) {
    err('referral.participant.personal_identity_number', checkPersonnummer(pnr, serverNow()));
    participant.personalIdentityNumber = pnr;
  } else if (kind === 'joint') {
    err('referral.participant.personal_identity_number', 'rule.required');
  }
  const attrs = participant.attributes;
  const int = (name, field, min, max, key) => {
    const value = v(name);
    err(`${A}.${field}`, checkIntRange(value, min, max));
    if (value !== '' && /^-?[0-9]+$/.test(value)) attrs[key] = Number(value);
  };
  int('age', 'age_years', 16, 69, 'ageYears');
  int('daysLeft', 'sickness_insurance_days_left', 0, 914, 'sicknessInsuranceDaysLeft');
  int('hours', 'hours_per_week', 1, 40, 'hoursPerWeek');
  if (v('gender')) attrs.gender = v('gender');
  if (v('kommun') && !isProtected) {
    err(`${A}.kommun_code`, checkKommun(v('kommun')));
    attrs.kommunCode = v('kommun');
  }
  const benefits = checkedValues(form, 'benefits');
  if (benefits.length > 1 && benefits.includes('BENEFIT_STATUS_NONE')) err(`${A}.benefit_statuses`, 'rule.benefitNone');
  if (benefits.length) attrs.benefitStatuses = benefits;
  const langs = parseLanguages(v('languages'));
  if (langs.error) err(`${A}.languages`, langs.error);
  else if (langs.languages.length) attrs.languages = langs.languages;
  if (v('interpreter')) attrs.needsInterpreter = true;
  const exclusions = checkedValues(form, 'exclusions');
  if (exclusions.length) attrs.exclusions = exclusions;
  referral.participant = participant;

  // The consent.
  const C = 'referral.consent';
  const partyA = kind === 'joint' ? 'PARTY_CLASS_COUNTERPART_AGENCY' : 'PARTY_CLASS_ASSIGNED_PROVIDER';
  const scopes = [];
  const catsA = checkedValues(form, 'scopeA');
  const catsB = checkedValues(form, 'scopeB');
  if (catsA.length) scopes.push({partyClass: partyA, dataCategories: catsA});
  if (catsB.length) scopes.push({partyClass: 'PARTY_CLASS_REGION_COORDINATORS', dataCategories: catsB});
  if (joint) scopes.push(...joint.scopes);
  if (!catsA.length) {
    err(`${C}.scopes`, ['rule.consentScope', {party: t(kind === 'joint' ? 'party.counterpart' : 'party.provider')}]);
  }
  const consent = {scopes, purpose: v('purpose'), form: v('consentForm')};
  const start = v('consentStart');
  if (!start) {
    err(`${C}.start_time`, 'rule.required');
  } else {
    consent.startTime = dayToRfc3339(start);
    if (Date.parse(consent.startTime) > serverNow().getTime() + 5 * 60000) err(`${C}.start_time`, 'rule.consentFuture');
  }
  const end = v('consentEnd');
  if (end) {
    consent.endTime = dayToRfc3339(end, true);
    if ((consent.startTime && consent.endTime <= consent.startTime) ||
      Date.parse(consent.endTime) <= serverNow().getTime()) {
      err(`${C}.end_time`, 'rule.consentEnd');
    }
  }
  if (!consent.form) err(`${C}.form`, 'rule.chooseOne');
  referral.consent = consent;
  return {referral, errors};
}
