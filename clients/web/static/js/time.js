// Dates and times the Swedish way, in Europe/Stockholm, and the working-day
// calendar (arbetsdagar) that deadlines count in. Mirrors
// broker/core/model/calendar.cc: weekends, the public holidays (Easter computed)
// and the eves lag (1930:173) treats as holidays.
//
// The broker's clock may differ from the browser's (in tests it is a
// testing clock that moves only when told), so "now" is the browser's clock
// corrected by what the server has shown us: observeServerTime() takes times
// the server has just stamped, and serverNow() uses the latest lower bound.

import {lang, locale, t} from './i18n.js';

const ZONE = 'Europe/Stockholm';
let offsetMs = null;

// `iso` is a time the server stamped no later than now (an event's time, a
// resource's update_time after our own change, a worklist's due + lateness).
export function observeServerTime(iso) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return;
  const observed = ms - Date.now();
  if (offsetMs === null || observed > offsetMs) offsetMs = observed;
}

export function serverNow() {
  return new Date(Date.now() + (offsetMs || 0));
}

// --- civil days ------------------------------------------------------------

// A civil day as {y, m, d}, compared by its key "YYYY-MM-DD".
function civil(y, m, d) {
  const date = new Date(Date.UTC(y, m - 1, d));
  return {y: date.getUTCFullYear(), m: date.getUTCMonth() + 1, d: date.getUTCDate()};
}
function key(day) {
  return `${day.y}-${String(day.m).padStart(2, '0')}-${String(day.d).padStart(2, '0')}`;
}
function addDays(day, n) {
  return civil(day.y, day.m, day.d + n);
}
function weekday(day) {
  return new Date(Date.UTC(day.y, day.m - 1, day.d)).getUTCDay(); // 0 Sunday
}

// The civil day of `date` in Europe/Stockholm.
export function localDay(date) {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(date);
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  return {y: get('year'), m: get('month'), d: get('day')};
}

function easterSunday(year) {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return civil(year, month, day);
}

function nextSaturdayAfter(day) {
  let next = addDays(day, 1);
  while (weekday(next) !== 6) next = addDays(next, 1);
  return next;
}

const holidayCache = new Map();
function holidays(year) {
  if (!holidayCache.has(year)) {
    const easter = easterSunday(year);
    const midsommardagen = nextSaturdayAfter(civil(year, 6, 19));
    const allaHelgon = nextSaturdayAfter(civil(year, 10, 30));
    const days = [
      civil(year, 1, 1), civil(year, 1, 6), addDays(easter, -2), easter,
      addDays(easter, 1), civil(year, 5, 1), addDays(easter, 39),
      addDays(easter, 49), civil(year, 6, 6), addDays(midsommardagen, -1),
      midsommardagen, allaHelgon, civil(year, 12, 24), civil(year, 12, 25),
      civil(year, 12, 26), civil(year, 12, 31),
    ];
    holidayCache.set(year, new Set(days.map(key)));
  }
  return holidayCache.get(year);
}

export function isWorkingDay(day) {
  const wd = weekday(day);
  return wd !== 0 && wd !== 6 && !holidays(day.y).has(key(day));
}

// Working days in (a, b]: 0 when b is not after a.
export function workingDaysBetween(a, b) {
  let count = 0;
  for (let day = addDays(a, 1); key(day) <= key(b); day = addDays(day, 1)) {
    if (isWorkingDay(day)) count += 1;
  }
  return count;
}

// --- formatting ------------------------------------------------------------

function fmt(options, date) {
  return new Intl.DateTimeFormat(locale(), {timeZone: ZONE, ...options}).format(date);
}

// "2026-12-06 05:20" (Swedish) or "06/12/2026, 05:20" (English).
export function formatDateTime(iso) {
  if (!iso) return t('none');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return t('none');
  return fmt({year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit'}, date);
}

export function formatDate(iso) {
  if (!iso) return t('none');
  return fmt({year: 'numeric', month: '2-digit', day: '2-digit'}, new Date(iso));
}

// A slussen.v1.Date {year, month, day} → "2026-12-30".
export function formatCivilDate(d) {
  if (!d || !d.year) return t('none');
  return fmt({year: 'numeric', month: '2-digit', day: '2-digit'},
    new Date(Date.UTC(d.year, d.month - 1, d.day, 12)));
}

// "onsdag 30 dec" for a day.
function dayWords(date) {
  const parts = new Intl.DateTimeFormat(locale(), {
    timeZone: ZONE, weekday: 'long', day: 'numeric', month: 'short',
  }).formatToParts(date);
  const get = (type) => (parts.find((p) => p.type === type) || {}).value || '';
  const month = get('month').replace(/\.$/, '');
  return `${get('weekday')} ${get('day')} ${month}`;
}

// A deadline: "senast onsdag 30 dec" for one that falls at the end of a
// day (midnight in Stockholm, as working-day deadlines do), else with the
// time: "senast onsdag 30 dec kl. 14:00".
export function formatDeadline(iso) {
  if (!iso) return t('none');
  const due = new Date(iso);
  const time = fmt({hour: '2-digit', minute: '2-digit'}, due);
  if (time === '00:00' || time === '24:00') {
    return t('due.by', {when: dayWords(new Date(due.getTime() - 1))});
  }
  const at = lang() === 'sv' ? `kl. ${time}` : `at ${time}`;
  return t('due.by', {when: `${dayWords(due)} ${at}`});
}

// The last day a deadline allows (a midnight deadline belongs to the day
// before it).
function dueDay(due) {
  return localDay(new Date(due.getTime() - 1));
}

// {late: bool, workingDays: n, text} for a deadline against `now`.
export function lateness(iso, now = serverNow()) {
  const due = new Date(iso);
  if (now.getTime() > due.getTime()) {
    const last = dueDay(due);
    const today = localDay(now);
    const n = workingDaysBetween(last, today);
    return {late: true, workingDays: n,
      text: n === 0 && key(last) === key(today) ? t('due.lateToday') : t('due.late', {n})};
  }
  const n = workingDaysBetween(localDay(now), dueDay(due));
  return {late: false, workingDays: n,
    text: n === 0 ? t('due.today') : t('due.left', {n})};
}

// "3 h 12 min kvar" until `iso`.
export function timeLeft(iso, now = serverNow()) {
  const ms = new Date(iso).getTime() - now.getTime();
  if (ms <= 0) return t('hold.expired');
  const minutes = Math.floor(ms / 60000);
  return t('hold.left', {h: Math.floor(minutes / 60), m: minutes % 60});
}

// A protobuf Duration "3600s" or "1.5s" → seconds.
export function durationSeconds(text) {
  if (!text) return 0;
  return Number.parseFloat(String(text).replace(/s$/, '')) || 0;
}

// Seconds in words: "3 dagar 4 h", "5 h 3 min".
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days > 0) return `${t('days', {n: days})} ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  return `${minutes} min`;
}

// The local day of the server's now as "YYYY-MM-DD" (for date inputs).
export function todayInput(now = serverNow()) {
  return key(localDay(now));
}

// "YYYY-MM-DD" → an RFC 3339 time at the start of that day in Stockholm
// (or at its end with `endOfDay`).
export function dayToRfc3339(value, endOfDay = false) {
  const [y, m, d] = value.split('-').map(Number);
  const day = endOfDay ? addDays(civil(y, m, d), 1) : civil(y, m, d);
  // Stockholm is UTC+1 or UTC+2: find the offset at that day's midnight.
  const guess = new Date(Date.UTC(day.y, day.m - 1, day.d, 0, 0, 0));
  const hourThere = Number(new Intl.DateTimeFormat('en-GB', {
    timeZone: ZONE, hour: '2-digit', hourCycle: 'h23',
  }).format(guess));
  const offsetHours = hourThere >= 12 ? hourThere - 24 : hourThere;
  return new Date(guess.getTime() - offsetHours * 3600000).toISOString();
}

// "YYYY-MM-DD" → a slussen.v1.Date.
export function inputToDate(value) {
  const [year, month, day] = value.split('-').map(Number);
  return {year, month, day};
}
