// The desks' pure helpers in Node, without a browser: deadlines written the
// Swedish way and lateness counted in arbetsdagar (mirroring
// broker/core/model/calendar.cc), and the client-side checks that mirror the
// broker's rules (broker/core/model/personnummer.cc, referral_validation.cc).

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {formatDeadline, isWorkingDay, lateness, workingDaysBetween, dayToRfc3339} from
  '../../clients/web/static/js/time.js';
import {checkKommun, checkPersonnummer, checkPhone, checkPseudonym, containsPersonnummer,
  parseLanguages} from '../../clients/web/static/js/validate.js';

const day = (y, m, d) => ({y, m, d});

test('holidays and eves are not arbetsdagar', () => {
  assert.equal(isWorkingDay(day(2026, 12, 23)), true);
  assert.equal(isWorkingDay(day(2026, 12, 24)), false); // julafton
  assert.equal(isWorkingDay(day(2026, 12, 25)), false); // juldagen
  assert.equal(isWorkingDay(day(2026, 12, 28)), true);
  assert.equal(isWorkingDay(day(2026, 12, 31)), false); // nyårsafton
  assert.equal(isWorkingDay(day(2027, 1, 6)), false); // trettondedag jul
  assert.equal(isWorkingDay(day(2026, 4, 3)), false); // långfredagen 2026
  assert.equal(isWorkingDay(day(2026, 4, 6)), false); // annandag påsk 2026
  assert.equal(isWorkingDay(day(2026, 5, 14)), false); // Kristi himmelsfärd 2026
  assert.equal(isWorkingDay(day(2026, 6, 19)), false); // midsommarafton 2026
  assert.equal(isWorkingDay(day(2026, 12, 5)), false); // a Saturday
});

test('an impulse of Wednesday 23 December 2026 is due by Wednesday 30 December', () => {
  // Three arbetsdagar after the 23rd: the 28th, 29th and 30th.
  assert.equal(workingDaysBetween(day(2026, 12, 23), day(2026, 12, 30)), 3);
  // Due at the end of the 30th: midnight in Stockholm (CET, UTC+1).
  const due = dayToRfc3339('2026-12-30', true);
  assert.equal(due, '2026-12-30T23:00:00.000Z');
  assert.equal(formatDeadline(due), 'senast onsdag 30 dec');
  // On Monday 4 January it is one arbetsdag late (31 Dec, 1 Jan and the
  // weekend do not count).
  assert.equal(lateness(due, new Date('2027-01-04T10:00:00+01:00')).text, '1 arbetsdag sen');
  assert.equal(lateness(due, new Date('2026-12-29T10:00:00+01:00')).text, '1 arbetsdag kvar');
  assert.equal(lateness(due, new Date('2026-12-30T10:00:00+01:00')).text, 'ska klaras idag');
});

test('a deadline within a day is written with its time', () => {
  assert.equal(formatDeadline('2026-12-09T04:33:00Z'), 'senast onsdag 9 dec kl. 05:33');
  assert.equal(dayToRfc3339('2026-07-01'), '2026-06-30T22:00:00.000Z'); // CEST
});

test('the client checks mirror the broker: personnummer, pseudonym, kommun, phone, languages', () => {
  const today = new Date('2026-12-06T12:00:00Z');
  assert.equal(checkPersonnummer('19121212-1212', today), null);
  assert.equal(checkPersonnummer('121212-1212', today), null);
  assert.equal(checkPersonnummer('19121212-1213', today), 'rule.pnr'); // check digit
  assert.equal(checkPersonnummer('20301212-1214', today), 'rule.pnr'); // future or wrong
  assert.equal(checkPersonnummer('19121272-1219', today), null); // samordningsnummer (day + 60)
  assert.equal(checkPseudonym('eb-2026-0042'), null);
  assert.equal(checkPseudonym('19121212-1212'), 'rule.pseudonymPnr');
  assert.equal(checkPseudonym('ab'), 'rule.pseudonym');
  assert.equal(checkPseudonym(''), 'rule.required');
  assert.equal(containsPersonnummer('ring 19121212-1212 i morgon'), true);
  assert.equal(containsPersonnummer('ring 035-13 70 00'), false);
  assert.equal(checkKommun('1380', '13'), null);
  assert.deepEqual(checkKommun('1280', '13'), ['rule.kommunRegion', {region: '13'}]);
  assert.deepEqual(checkKommun('9980', '13'), ['rule.kommun']);
  assert.equal(checkPhone('035-13 70 00'), null);
  assert.equal(checkPhone('+46 35 13 70 00'), null);
  assert.equal(checkPhone('12345'), 'rule.phone');
  assert.deepEqual(parseLanguages('sv, ar'), {languages: ['sv', 'ar']});
  assert.deepEqual(parseLanguages('sv, sv'), {error: 'rule.languages'});
  assert.deepEqual(parseLanguages('swe'), {error: 'rule.languages'});
});
