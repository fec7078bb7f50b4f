// What every desk shares: the session check (sending a person who is not
// signed in to the sign-in page, and one of another role to their own
// desk), the header (who is signed in, language switch, sign-out), the
// polite live region, and plain-words error notices.

import {getSession, signOut} from './api.js';
import {$, h, replace} from './dom.js';
import {applyStatic, enumLabel, lang, onLanguageChange, setLanguage, t} from './i18n.js';
import {watchEvents} from './sse.js';

export const DESK_OF_ROLE = {
  agency: 'agency.html',
  provider: 'provider.html',
  coordinator: 'coordinator.html',
};

// Draws `build()` into `host` when something changed. Once the person has
// begun to fill in a form inside `host`, a change does not throw their
// input away: `host` says the list changed, with a button that draws it
// anew; `force` (their own language switch) draws at once. After their own
// action, doneEditing(host) first.
export function redraw(host, build, {force = false} = {}) {
  if (host.dataset.editing && !force) {
    if (!host.querySelector(':scope > .stale')) {
      host.prepend(h('div', {class: 'notice info stale', role: 'status'},
        t('live.changed'), ' ',
        h('button', {type: 'button', class: 'secondary',
          onclick: () => redraw(host, build, {force: true})}, t('live.showLatest'))));
    }
    return;
  }
  doneEditing(host);
  replace(host, build());
  if (!host.dataset.watched) {
    host.dataset.watched = '1';
    const editing = (e) => {
      if (e.target.closest('form')) host.dataset.editing = '1';
    };
    host.addEventListener('input', editing);
    host.addEventListener('change', editing);
  }
}

// The person's form in `host` is sent: changes draw it again.
export function doneEditing(host) {
  if (host) delete host.dataset.editing;
}

// Announces `text` to screen readers, politely, and shows it in the
// status line under the header.
let announceTimer = null;
export function announce(text) {
  const live = $('#live');
  if (!live) return;
  // Clear first so that the same text twice is announced twice.
  live.textContent = '';
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => {
    live.textContent = text;
  }, 50);
}

// Clears an error notice in `container` (after a fetch that worked), but
// leaves a notice of success standing.
export function clearErrorNotice(container) {
  if (container && container.querySelector('.notice.error')) replace(container);
}

// A notice in `container`: ok, error (an RpcError or text) or info.
export function notice(container, kind, content) {
  if (!container) return;
  if (content && content.plain) {
    const err = content;
    const parts = [h('strong', null, err.plain())];
    if (err.code === 'unauthenticated') {
      parts.push(' ', h('a', {href: 'index.html'}, t('signin.submit')));
    } else if (err.message && err.code !== 'network') {
      parts.push(' ', h('span', {class: 'muted'}, t('error.detail', {message: err.message})));
    }
    replace(container, h('div', {class: 'notice error', role: 'alert'}, parts));
    return;
  }
  replace(container, h('div', {class: `notice ${kind}`,
    role: kind === 'error' ? 'alert' : 'status'}, content));
}

function renderHeader(session) {
  const header = $('#site-header');
  const roleWord = t(`role.${session.role}`);
  const langButton = h('button', {
    type: 'button', class: 'lang-switch', id: 'lang-switch',
    lang: lang() === 'sv' ? 'en' : 'sv',
    'aria-label': t('lang.switch.label'),
    onclick: () => setLanguage(lang() === 'sv' ? 'en' : 'sv'),
  }, t('lang.switch'));
  const signOutButton = h('button', {
    type: 'button', id: 'sign-out',
    onclick: async () => {
      try {
        await signOut();
      } finally {
        location.assign('index.html?signedout=1');
      }
    },
  }, t('signout'));
  replace(header,
    h('a', {class: 'brand', href: DESK_OF_ROLE[session.role] || 'index.html'}, t('app.name')),
    h('p', {class: 'who', id: 'who', title: session.organisation}, t('signedin.as', {
      name: session.name || session.person || session.organisation,
      organisation: session.organisation, role: roleWord,
    })),
    h('p', {class: 'live-status', id: 'live-status'}, t('live.connecting')),
    langButton, signOutButton);
}

// Boots a desk for `role`: returns the session, or never resolves when the
// person is sent elsewhere.
export async function bootDesk(role, titleKey) {
  applyStatic();
  document.title = t(titleKey);
  let session;
  try {
    session = await getSession();
  } catch (e) {
    notice($('#page-notice'), 'error', e);
    throw e;
  }
  if (!session) {
    location.replace('index.html');
    return new Promise(() => {});
  }
  if (session.role !== role) {
    location.replace(DESK_OF_ROLE[session.role] || 'index.html');
    return new Promise(() => {});
  }
  renderHeader(session);
  onLanguageChange(() => renderHeader(session));
  return session;
}

// Opens the live event stream of the session's region, keeping the status
// line current; `onEvent` gets each slussen.v1.Event, `onReopen` is called
// when the stream had to be opened anew (re-fetch everything then).
export function startLive(session, onEvent, onReopen) {
  let state = 'connecting';
  const show = () => {
    const el = $('#live-status');
    if (el) el.textContent = t(`live.${state}`);
  };
  onLanguageChange(show);
  return watchEvents(session.region || '-', {
    onEvent,
    onReopen,
    onState: (next) => {
      state = next;
      show();
      document.body.dataset.live = next;
    },
  });
}

// A one-line description of an event for the live region.
export function describeEvent(event) {
  const what = enumLabel(event.type);
  const id = event.referral ? event.referral.split('/').pop().slice(-8) : '';
  return id ? t('event.about', {what, id}) : `${what}.`;
}
