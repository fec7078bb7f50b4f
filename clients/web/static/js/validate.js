// Client-side checks that mirror the broker's rules
// (broker/core/model/referral_validation.cc, text_rules.cc, names.cc,
// personnummer.cc), so that a person hears of a mistake before sending.
// The broker checks again and has the last word: its field errors are shown
// the same way (forms.js).

const REGION_CODES = new Set(['01', '03', '04', '05', '06', '07', '08', '09',
  '10', '12', '13', '14', '17', '18', '19', '20', '21', '22', '23', '24', '25']);

export function countChars(text) {
  return Array.from(text).length;
}

function digitsOnly(text) {
  return /^[0-9]+$/.test(text);
}

function daysInMonth(year, month) {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function checkDigitMatches(ten) {
  let sum = 0;
  for (let i = 0; i < 9; i += 1) {
    const term = Number(ten[i]) * (i % 2 === 0 ? 2 : 1);
    sum += Math.floor(term / 10) + (term % 10);
  }
  return (10 - (sum % 10)) % 10 === Number(ten[9]);
}

function monthDay(mmdd) {
  const month = Number(mmdd.slice(0, 2));
  let day = Number(mmdd.slice(2, 4));
  if (day > 60) day -= 60;
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  return {month, day};
}

// LooksLikePersonnummer: 10 or 12 digits once spaces, '-' and '+' are
// dropped, a possible date and a right check digit.
export function looksLikePersonnummer(text) {
  const digits = text.replace(/[ +-]/g, '');
  if ((digits.length !== 10 && digits.length !== 12) || !digitsOnly(digits)) return false;
  const ten = digits.slice(-10);
  const md = monthDay(ten.slice(2, 6));
  if (!md) return false;
  const year = digits.length === 12 ? Number(digits.slice(0, 4)) :
    (Number(ten.slice(0, 2)) % 4 === 0 ? 2000 : 2001);
  return md.day <= daysInMonth(year, md.month) && checkDigitMatches(ten);
}

// ContainsPersonnummer: a run of 10 or 12 digits, or 6/8 digits, an
// optional separator and 4 digits, that looks like one.
export function containsPersonnummer(text) {
  const re = /(?<![0-9])([0-9]{6}|[0-9]{8})[-+ ]?([0-9]{4})(?![0-9])/g;
  for (const match of text.matchAll(re)) {
    if (looksLikePersonnummer(match[1] + match[2])) return true;
  }
  const long = /(?<![0-9])([0-9]{10}|[0-9]{12})(?![0-9])/g;
  for (const match of text.matchAll(long)) {
    if (looksLikePersonnummer(match[1])) return true;
  }
  return false;
}

// ParsePersonnummer: null when valid, else the rule key.
export function checkPersonnummer(text, today = new Date()) {
  const m = /^([0-9]{6}|[0-9]{8})([-+]?)([0-9]{4})$/.exec(text);
  if (!m) return 'rule.pnr';
  const [, date, sep, serial] = m;
  if (sep === '+' && date.length === 8) return 'rule.pnr';
  const long = date.length === 8;
  const md = monthDay(date.slice(long ? 4 : 2));
  if (!md) return 'rule.pnr';
  let year;
  const ty = today.getFullYear();
  if (long) {
    year = Number(date.slice(0, 4));
  } else {
    const yy = Number(date.slice(0, 2));
    year = ty - ((((ty - yy) % 100) + 100) % 100);
    const tm = today.getMonth() + 1;
    if (year === ty && (md.month > tm || (md.month === tm && md.day > today.getDate()))) {
      year -= 100;
    }
    if (sep === '+') year -= 100;
  }
  if (year < 1 || md.day > daysInMonth(year, md.month)) return 'rule.pnr';
  if (!checkDigitMatches((long ? date.slice(2) : date) + serial)) return 'rule.pnr';
  const birth = new Date(year, md.month - 1, md.day);
  if (birth > today) return 'rule.pnr';
  return null;
}

export function checkPseudonym(text) {
  if (!text) return 'rule.required';
  if (looksLikePersonnummer(text) || containsPersonnummer(text)) return 'rule.pseudonymPnr';
  if (!/^[A-Za-z0-9._-]{4,64}$/.test(text)) return 'rule.pseudonym';
  return null;
}

// ValidateKommunCode, and the impulse's rule that it lies in the region.
export function checkKommun(code, region) {
  if (!/^[0-9]{4}$/.test(code) || !REGION_CODES.has(code.slice(0, 2))) return ['rule.kommun'];
  if (region && code.slice(0, 2) !== region) return ['rule.kommunRegion', {region}];
  return null;
}

// The phone rule of a contact route.
export function checkPhone(phone) {
  if (phone.length > 20) return 'rule.phone';
  let digits = 0;
  for (let i = 0; i < phone.length; i += 1) {
    const c = phone[i];
    if (c >= '0' && c <= '9') digits += 1;
    else if (!(c === ' ' || c === '-' || (c === '+' && i === 0))) return 'rule.phone';
  }
  return digits >= 6 ? null : 'rule.phone';
}

export function checkEmail(email) {
  const at = email.indexOf('@');
  const ok = email.length <= 254 && at > 0 && email.indexOf('@', at + 1) === -1 &&
    email.indexOf('.', at) !== -1 && !email.endsWith('.') && !/[ \t\r\n<>,;"]/.test(email);
  return ok ? null : 'rule.email';
}

// Free text: length, control characters, and no personnummer.
export function checkText(text, {min = 0, max = 200, free = true} = {}) {
  const n = countChars(text);
  if (min > 0 && n === 0) return ['rule.required'];
  if (n > max) return ['rule.maxChars', {max, n}];
  // eslint-disable-next-line no-control-regex
  const control = free ? /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/ : /[\x00-\x1f\x7f]/;
  if (control.test(text)) return ['rule.maxChars', {max, n}];
  if (free && containsPersonnummer(text)) return ['rule.pnrInText'];
  return null;
}

// An optional whole number in min..max: null when empty or valid.
export function checkIntRange(value, min, max) {
  if (value === '') return null;
  if (!/^-?[0-9]+$/.test(value)) return ['rule.intRange', {min, max}];
  const n = Number(value);
  return n >= min && n <= max ? null : ['rule.intRange', {min, max}];
}

// Languages "sv, ar" → ["sv", "ar"], or the rule broken.
export function parseLanguages(text) {
  if (!text.trim()) return {languages: []};
  const list = text.split(/[,\s]+/).filter(Boolean);
  const ok = list.length <= 10 && list.every((c) => /^[a-z]{2}$/.test(c)) &&
    new Set(list).size === list.length;
  return ok ? {languages: list} : {error: 'rule.languages'};
}
