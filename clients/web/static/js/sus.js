// SUS, the samordningsförbund's national follow-up: what the provider
// registers of a participant at the start of an insats (the
// in-registration: income before, level of education) and at its end (the
// out-registration: income after, work, studies, Arbetsförmedlingen), as
// the fields of the provider's start, complete and exit forms, and as a
// short text in a referral's history.
//
// The checks mirror the broker's rules for SusRegistration (at least one
// income source, INCOME_SOURCE_NONE alone, the education level required at
// the start); errors are shown at the request paths the broker names
// ("sus.income_sources", "sus.education_level", ...).

import {h, uid} from './dom.js';
import {enumLabel, t} from './i18n.js';
import {checkedValues, choiceGroup, selectField, valueOf} from './forms.js';

export const INCOME_SOURCES = ['INCOME_SOURCE_EMPLOYMENT', 'INCOME_SOURCE_OWN_BUSINESS',
  'INCOME_SOURCE_SICKNESS_BENEFIT', 'INCOME_SOURCE_SICKNESS_COMPENSATION',
  'INCOME_SOURCE_ACTIVITY_SUPPORT', 'INCOME_SOURCE_UNEMPLOYMENT_BENEFIT',
  'INCOME_SOURCE_FINANCIAL_ASSISTANCE', 'INCOME_SOURCE_STUDY_SUPPORT', 'INCOME_SOURCE_NONE',
  'INCOME_SOURCE_OTHER'];
export const EDUCATION_LEVELS = ['EDUCATION_LEVEL_PRIMARY_INCOMPLETE', 'EDUCATION_LEVEL_PRIMARY',
  'EDUCATION_LEVEL_UPPER_SECONDARY', 'EDUCATION_LEVEL_POST_SECONDARY_SHORT',
  'EDUCATION_LEVEL_POST_SECONDARY'];
// UNSPECIFIED first: "does not work".
export const WORK_KINDS = ['WORK_KIND_UNSPECIFIED', 'WORK_KIND_UNSUBSIDISED', 'WORK_KIND_SUBSIDISED',
  'WORK_KIND_SHELTERED', 'WORK_KIND_OWN_BUSINESS'];

const options = (values) => values.map((v) => [v, enumLabel(v)]);

// The required mark on a legend, as textField and selectField put it on
// their labels.
function requiredLegend(text) {
  return `${text} *`;
}

function checkbox(name, field, label) {
  const id = uid(name);
  return h('div', {class: 'choice'},
    h('input', {type: 'checkbox', id, name, dataset: {field}}),
    h('label', {for: id}, label));
}

// The in-registration's fieldset, for the start form.
export function inRegistrationFields() {
  return h('fieldset', {class: 'sus', dataset: {field: 'sus', sus: 'in'}},
    h('legend', null, t('sus.in.legend')),
    h('p', {class: 'hint'}, t('sus.hint')),
    choiceGroup({legend: requiredLegend(t('sus.incomeBefore')), name: 'incomeSources',
      field: 'sus.income_sources', options: options(INCOME_SOURCES), hint: t('sus.income.hint')}),
    selectField({label: t('sus.education'), name: 'educationLevel', field: 'sus.education_level',
      required: true, hint: t('sus.education.hint'),
      options: [['', '–'], ...options(EDUCATION_LEVELS)]}));
}

// The out-registration's fieldset, for the complete and exit forms.
export function outRegistrationFields() {
  return h('fieldset', {class: 'sus', dataset: {field: 'sus', sus: 'out'}},
    h('legend', null, t('sus.out.legend')),
    h('p', {class: 'hint'}, t('sus.hint')),
    choiceGroup({legend: requiredLegend(t('sus.incomeAfter')), name: 'incomeSources',
      field: 'sus.income_sources', options: options(INCOME_SOURCES), hint: t('sus.income.hint')}),
    selectField({label: t('sus.work'), name: 'workKind', field: 'sus.work_kind',
      options: options(WORK_KINDS)}),
    checkbox('studies', 'sus.studies', t('sus.studies')),
    checkbox('registeredWithAf', 'sus.registered_with_af', t('sus.af')));
}

// The registration on `form` as the request's `sus`, its broken rules
// pushed on `errors` ({field, message}); `moment` is 'in' or 'out'.
export function collectSus(form, moment, errors) {
  const incomeSources = checkedValues(form, 'incomeSources');
  if (!incomeSources.length) {
    errors.push({field: 'sus.income_sources', message: t('rule.chooseAtLeastOne')});
  } else if (incomeSources.length > 1 && incomeSources.includes('INCOME_SOURCE_NONE')) {
    errors.push({field: 'sus.income_sources', message: t('rule.incomeNone')});
  }
  const sus = {incomeSources};
  if (moment === 'in') {
    sus.educationLevel = valueOf(form, 'educationLevel');
    if (!sus.educationLevel) errors.push({field: 'sus.education_level', message: t('rule.chooseOne')});
    return sus;
  }
  const workKind = valueOf(form, 'workKind');
  if (workKind && workKind !== 'WORK_KIND_UNSPECIFIED') sus.workKind = workKind;
  if (valueOf(form, 'studies')) sus.studies = true;
  if (valueOf(form, 'registeredWithAf')) sus.registeredWithAf = true;
  return sus;
}

// "Försörjning: Sjukpenning/rehabiliteringspenning, Ekonomiskt bistånd ·
// Utbildning: Gymnasial" for a START's registration; income, work, studies
// and Arbetsförmedlingen for an end's. Empty when nothing was registered.
export function susSummary(sus, action) {
  if (!sus) return '';
  const parts = [];
  const income = sus.incomeSources || [];
  if (income.length) parts.push(`${t('sus.summary.income')}: ${income.map(enumLabel).join(', ')}`);
  if (action === 'ACTION_START') {
    if (sus.educationLevel) parts.push(`${t('sus.summary.education')}: ${enumLabel(sus.educationLevel)}`);
    return parts.join(' · ');
  }
  if (!parts.length && !sus.workKind && !sus.studies && !sus.registeredWithAf) return '';
  const yesNo = (b) => (b ? t('yes') : t('no')).toLowerCase();
  parts.push(`${t('sus.summary.work')}: ${enumLabel(sus.workKind || 'WORK_KIND_UNSPECIFIED')}`);
  parts.push(`${t('sus.summary.studies')}: ${yesNo(sus.studies)}`);
  parts.push(`${t('sus.summary.af')}: ${yesNo(sus.registeredWithAf)}`);
  return parts.join(' · ');
}
