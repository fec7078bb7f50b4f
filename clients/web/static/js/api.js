// The gateway's API from the browser: the session, sign-in and sign-out,
// and every RPC as Connect unary JSON (POST /slussen.v1.<Service>/<Method>).
//
// A failed call throws an RpcError carrying the Connect code, the message
// and the field violations (from google.rpc.BadRequest details, or else
// from the message, which starts with the field path). Every POST made with
// a session sends X-CSRF-Token.

import {t} from './i18n.js';

let csrfToken = '';

export class RpcError extends Error {
  constructor(code, message, status, fieldViolations) {
    super(message || code);
    this.code = code;
    this.status = status;
    this.fieldViolations = fieldViolations || [];
  }

  // In plain words for people, by the code (not the HTTP status).
  plain() {
    const key = `error.${this.code}`;
    const text = t(key);
    return text === key ? t('error.unknown') : text;
  }
}

// A field path as the broker writes it: "referral.impulse.kommun_code",
// "referral.consent.scopes[0].data_categories", "request_id".
const FIELD_PATH = /^([a-z][a-z0-9_]*(?:\[\d+\])?(?:\.[a-z][a-z0-9_]*(?:\[\d+\])?)*) (.+)$/s;

function violationsOf(body) {
  const out = [];
  for (const detail of body.details || []) {
    const debug = detail && detail.debug;
    if (debug && Array.isArray(debug.fieldViolations)) {
      for (const v of debug.fieldViolations) {
        if (v.field) out.push({field: v.field, description: v.description || ''});
      }
    }
  }
  if (out.length === 0 && body.code === 'invalid_argument' && body.message) {
    const match = FIELD_PATH.exec(body.message);
    if (match) out.push({field: match[1], description: match[2]});
  }
  return out;
}

async function errorOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  const code = body.code || codeOfStatus(response.status);
  return new RpcError(code, body.message || response.statusText,
    response.status, violationsOf(body));
}

function codeOfStatus(status) {
  switch (status) {
    case 400: return 'invalid_argument';
    case 401: return 'unauthenticated';
    case 403: return 'permission_denied';
    case 404: return 'not_found';
    case 409: return 'aborted';
    case 429: return 'resource_exhausted';
    case 503: return 'unavailable';
    case 504: return 'deadline_exceeded';
    default: return 'unknown';
  }
}

async function send(path, options) {
  let response;
  try {
    response = await fetch(path, {credentials: 'same-origin', ...options});
  } catch (e) {
    throw new RpcError('network', String(e), 0, []);
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return {};
  const text = await response.text();
  return text ? JSON.parse(text) : {};
}

function postHeaders() {
  const headers = {'Content-Type': 'application/json'};
  if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  return headers;
}

// The session, or null when not signed in.
export async function getSession() {
  try {
    const session = await send('/v1/session', {method: 'GET'});
    csrfToken = session.csrfToken || '';
    return session;
  } catch (e) {
    if (e.code === 'unauthenticated') return null;
    throw e;
  }
}

export async function listIdentities() {
  const body = await send('/v1/sign-in/identities', {method: 'GET'});
  return body.identities || [];
}

// Development sign-in with `key`; certificate or proxy sign-in without.
export async function signIn(key) {
  const session = await send('/v1/sign-in', {
    method: 'POST', headers: postHeaders(),
    body: JSON.stringify(key ? {key} : {}),
  });
  csrfToken = session.csrfToken || '';
  return session;
}

export async function signOut() {
  await send('/v1/sign-out', {method: 'POST', headers: postHeaders(), body: '{}'});
  csrfToken = '';
}

// Calls `service`.`method` (e.g. 'ReferralService', 'CreateReferral').
export function rpc(service, method, request = {}) {
  return send(`/slussen.v1.${service}/${method}`, {
    method: 'POST', headers: postHeaders(), body: JSON.stringify(request),
  });
}

// Every page of a List call: `field` is the repeated field of the answer.
export async function listAll(service, method, request, field, maxPages = 20) {
  const out = [];
  let pageToken = '';
  for (let i = 0; i < maxPages; i += 1) {
    const page = await rpc(service, method, {...request, pageToken});
    out.push(...(page[field] || []));
    pageToken = page.nextPageToken || '';
    if (!pageToken) break;
  }
  return out;
}

// A request id for an idempotent create or action.
export function requestId(prefix = 'web') {
  const random = (crypto.randomUUID ? crypto.randomUUID() :
    `${Date.now()}-${Math.random().toString(36).slice(2)}`);
  return `${prefix}-${random}`;
}
