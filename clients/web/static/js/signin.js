// The sign-in page: development sign-in (pick one of the sample
// identities), or certificate/proxy sign-in when the gateway runs that way;
// then on to the desk of the person's role.

import {getSession, listIdentities, signIn, signOut} from './api.js';
import {$, h, replace} from './dom.js';
import {applyStatic, lang, onLanguageChange, setLanguage, t} from './i18n.js';
import {DESK_OF_ROLE, notice} from './desk.js';
import {clearErrors, showErrors} from './forms.js';

const ROLES = ['agency', 'provider', 'coordinator', 'admin'];
let state = {session: null, identities: null, error: null};

function goToDesk(session) {
  const desk = DESK_OF_ROLE[session.role];
  if (desk) location.assign(desk);
  else notice($('#page-notice'), 'info', t('signin.admin'));
}

function identityForm(identities) {
  const groups = ROLES.map((role) => {
    const mine = identities.filter((i) => i.role === role);
    if (!mine.length) return null;
    return h('fieldset', {class: 'identity-group'},
      h('legend', null, t(`signin.group.${role}`)),
      h('div', {class: 'identity-list'}, mine.map((identity, n) => {
        const id = `identity-${role}-${n}`;
        const region = identity.region ? `, län ${identity.region}` : '';
        return h('div', {class: 'choice'},
          h('input', {type: 'radio', name: 'identity', id, value: identity.key,
            dataset: {organisation: identity.organisation, role: identity.role}}),
          h('label', {for: id}, identity.name,
            h('span', {class: 'hint'}, `${identity.organisation} · ${t(`role.${identity.role}`)}${region}`)));
      })));
  });
  const form = h('form', {id: 'signin-form', method: 'post', action: '#', novalidate: true},
    h('fieldset', {dataset: {field: 'key'}},
      h('legend', null, t('signin.dev.legend')),
      h('span', {class: 'hint'}, t('signin.dev.hint')),
      groups),
    h('div', {class: 'actions'}, h('button', {type: 'submit', id: 'signin-submit'}, t('signin.submit'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const chosen = form.querySelector('input[name="identity"]:checked');
    if (!chosen) {
      showErrors(form, [{field: 'key', message: t('signin.choose')}]);
      return;
    }
    clearErrors(form);
    try {
      goToDesk(await signIn(chosen.value));
    } catch (err) {
      notice($('#page-notice'), 'error', err);
    }
  });
  return form;
}

function certificateForm() {
  const form = h('form', {id: 'signin-form', method: 'post', action: '#'},
    h('p', null, t('signin.cert.lede')),
    h('div', {class: 'actions'}, h('button', {type: 'submit', id: 'signin-submit'}, t('signin.cert'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      goToDesk(await signIn(null));
    } catch (err) {
      notice($('#page-notice'), 'error', err);
    }
  });
  return form;
}

function render() {
  const root = $('#signin');
  const parts = [];
  if (state.session) {
    const desk = DESK_OF_ROLE[state.session.role];
    parts.push(h('div', {class: 'panel'},
      h('p', null, t('signin.already', {name: state.session.name || state.session.organisation})),
      h('div', {class: 'actions'},
        desk ? h('a', {class: 'button', href: desk, id: 'continue'}, t('signin.continue')) :
          h('p', null, t('signin.admin')),
        h('button', {type: 'button', class: 'secondary', onclick: async () => {
          await signOut();
          state.session = null;
          render();
        }}, t('signout')))));
  }
  if (state.identities && state.identities.length) parts.push(identityForm(state.identities));
  else if (state.identities) parts.push(certificateForm());
  replace(root, parts);
}

async function main() {
  applyStatic();
  document.title = t('signin.title');
  $('#lang-switch').addEventListener('click', () => setLanguage(lang() === 'sv' ? 'en' : 'sv'));
  onLanguageChange(() => {
    document.title = t('signin.title');
    $('#lang-switch').setAttribute('lang', lang() === 'sv' ? 'en' : 'sv');
    render();
  });
  $('#lang-switch').setAttribute('lang', lang() === 'sv' ? 'en' : 'sv');
  if (new URLSearchParams(location.search).has('signedout')) {
    notice($('#page-notice'), 'ok', t('signin.signedout'));
  }
  try {
    state.session = await getSession();
  } catch (err) {
    notice($('#page-notice'), 'error', err);
  }
  try {
    state.identities = await listIdentities();
  } catch (err) {
    // Not in development mode: sign in with a certificate or via the proxy.
    state.identities = [];
    if (err.code !== 'not_found' && err.code !== 'unimplemented' &&
        err.code !== 'permission_denied') {
      notice($('#page-notice'), 'error', err);
    }
  }
  render();
}

main();
