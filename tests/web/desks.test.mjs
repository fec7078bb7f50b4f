// The web desks in real headless Chromium (Debian's, driven by
// playwright-core) against a real gateway, broker and Redis with the sample
// catalogue (harness.mjs):
// - an agency sends an activity referral through the form with the
//   keyboard alone; the provider's desk shows the offer without reload; the
//   provider accepts (keyboard); the agency's desk shows the new state
//   without reload;
// - on the testing clock a clock breaches and appears at the top of the
//   coordinator's worklist without reload, counted in the title;
// - field errors are shown next to their fields: the client's own check and
//   the broker's refusal;
// - a provider of another organisation cannot open the referral;
// - a referral the provider could not contact comes back to the agency
//   (returned, with the provider's reason and note) without reload, and
//   the agency sends it to the queue again with a note, by keyboard;
// - a participant with protected personal data: the agency ticks the box
//   with the keyboard, the kommun goes, the client refuses the referral
//   without the referrer's name and phone next to those fields, and once
//   they are given the detail and the provider's offer say to reach the
//   participant through the referrer; a referral is marked protected
//   afterwards (with the phone it lacked) and the marking lifted again;
// - SUS: the provider starts an accepted referral with the in-registration
//   (income before, education) and completes it with the out-registration
//   (income after, work, Arbetsförmedlingen), by keyboard, after the client
//   refused a start without them next to the fields; the agency's history
//   shows the in-registration; the coordinator's export of a period around
//   the testing clock's day lists the referral's in- and out-registration,
//   its CSV download is the broker's CSV with one line per row shown, and
//   the outcome report shows the income before and after, and the joint
//   referral once per agency in its part;
// - a joint referral FK Halmstad leads, with kommun Halmstad kept informed,
//   comes to the kommun's desk without reload, with its funder, lead and
//   parties, only what the consent gives the kommun, and no cancel;
// - kommun Laholm makes a joint referral in the form by keyboard (a second
//   party added, its own organisation refused as a party next to the
//   field), written with each party's part and consent scope, and it comes
//   to the informed kommun Halmstad's desk live;
// - axe-core finds no serious or critical violation on any page, and the
//   strict Content-Security-Policy is never violated;
// - a screenshot of each desk is saved in SLUSSEN_TEST_ARTIFACTS
//   (build/web-screenshots), and with SLUSSEN_TEST_DOCS_SCREENSHOTS=1 also in
//   docs/screenshots/ for docs/integrating.md.
//
// Run: node --test tests/web/ (after `npm ci --prefix tests/web`), or
// ctest -R web_desks.

import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {ARTIFACTS, CHROMIUM, SOURCE_DIR, World, missingPrerequisites} from './harness.mjs';

const missing = missingPrerequisites();
const DAY = 86400000;

let world;
let browser;
let axeSource;
const pages = [];
const cspViolations = [];
const pageErrors = [];
const state = {};

before(async () => {
  if (missing.length) return;
  const {chromium} = await import('playwright-core');
  axeSource = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname),
    'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  fs.mkdirSync(ARTIFACTS, {recursive: true});
  world = new World();
  await world.up();
  browser = await chromium.launch({executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu',
    '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--lang=sv-SE']});
  state.admin = await world.apiAs('dev:admin');
});

after(async () => {
  if (browser) await browser.close();
  if (world) await world.stop();
});

function requirePrerequisites() {
  assert.deepEqual(missing, [], `cannot run the browser tests; missing:\n  ${missing.join('\n  ')}`);
}

// A browser context of its own (its own session cookie) on the sign-in page.
async function openBrowser(name) {
  const context = await browser.newContext({viewport: {width: 1280, height: 900}, locale: 'sv-SE',
    timezoneId: 'Europe/Stockholm'});
  const page = await context.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(`${name}: ${message.text()}`);
  });
  page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
  pages.push(page);
  await page.goto(`${world.base}/`);
  await page.waitForSelector('#signin-form');
  return page;
}

// Presses Tab until the focused element matches `selector`.
async function tabTo(page, selector, max = 400) {
  for (let i = 0; i < max; i += 1) {
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

// Chooses `value` in the focused radio group or select with the arrow keys.
async function arrowTo(page, value, max = 40) {
  for (let i = 0; i < max; i += 1) {
    if (await page.evaluate(() => document.activeElement.value) === value &&
        await page.evaluate(() => document.activeElement.tagName === 'SELECT' || document.activeElement.checked)) {
      return;
    }
    await page.keyboard.press('ArrowDown');
  }
  throw new Error(`the arrow keys never reached ${value}`);
}

// Tabs to `selector` and types `text` there, as a keyboard user fills a field.
async function typeInto(page, selector, text) {
  await tabTo(page, selector);
  await page.keyboard.type(text);
}
// Tabs to the form's submit button and presses Enter.
async function submitByKeyboard(page) {
  await tabTo(page, '#referral-submit');
  await page.keyboard.press('Enter');
}

// Signs in as `key` with the keyboard alone, and waits for the desk.
async function signInByKeyboard(page, key, desk) {
  await tabTo(page, 'input[name="identity"]');
  await arrowTo(page, key);
  await tabTo(page, '#signin-submit');
  await page.keyboard.press('Enter');
  await page.waitForURL(`**/${desk}`);
  await page.waitForSelector('#sign-out');
  await page.waitForFunction(() => document.body.dataset.live === 'connected');
}

async function signIn(page, key, desk) {
  await page.check(`input[name="identity"][value="${key}"]`);
  await page.click('#signin-submit');
  await page.waitForURL(`**/${desk}`);
  await page.waitForSelector('#sign-out');
  await page.waitForFunction(() => document.body.dataset.live === 'connected');
}

// Marks the page, so that a reload (which would drop the mark) shows.
async function markNoReload(page) {
  await page.evaluate(() => {
    window.slussenTestMark = 'still here';
  });
}
async function assertNotReloaded(page) {
  assert.equal(await page.evaluate(() => window.slussenTestMark), 'still here', 'the page was reloaded');
}

async function axeCheck(page, what) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
  }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of result.violations.filter((x) => !bad.includes(x))) {
    console.log(`# axe-core on ${what}: ${v.id} (${v.impact}): ${v.help}`);
  }
  assert.deepEqual(bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [],
    `axe-core found serious or critical violations on ${what}`);
}

// The whole page as an artefact; for docs/integrating.md (docs/screenshots/,
// with SLUSSEN_TEST_DOCS_SCREENSHOTS=1) one screenful from `from` down.
async function screenshot(page, name, from = 'body') {
  await page.screenshot({path: path.join(ARTIFACTS, `${name}.png`), fullPage: true});
  if (process.env.SLUSSEN_TEST_DOCS_SCREENSHOTS === '1') {
    const docs = path.join(SOURCE_DIR, 'docs', 'screenshots');
    fs.mkdirSync(docs, {recursive: true});
    await page.$eval(from, (el) => el.scrollIntoView({block: 'start'}));
    await page.screenshot({path: path.join(docs, `${name}.png`)});
  }
}

test('the sign-in page offers the development identities and is accessible', async () => {
  requirePrerequisites();
  const page = await openBrowser('sign-in');
  assert.equal(await page.getAttribute('html', 'lang'), 'sv');
  const identities = await page.$$eval('input[name="identity"]', (els) => els.map((e) => e.value));
  for (const key of ['dev:anna', 'dev:helena', 'dev:sara', 'dev:rasmus']) assert.ok(identities.includes(key), key);
  // Submitting without a choice shows the error at the group.
  await page.click('#signin-submit');
  await page.waitForSelector('.field-error');
  await axeCheck(page, 'the sign-in page');
  await screenshot(page, 'sign-in');
  // The language switch changes the text and the lang attribute.
  await page.click('#lang-switch');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('h1'), /Sign in/);
  await page.click('#lang-switch');
  assert.equal(await page.getAttribute('html', 'lang'), 'sv');
  await page.context().close();
});

test('an activity referral sent with the keyboard reaches the provider live; the accept reaches the agency live', async () => {
  requirePrerequisites();
  const provider = await openBrowser('provider');
  await signInByKeyboard(provider, 'dev:helena', 'provider.html');
  await provider.waitForSelector('#offers-list .empty, #offers-list .offer');
  await markNoReload(provider);

  const agency = await openBrowser('agency');
  await signInByKeyboard(agency, 'dev:anna', 'agency.html');
  await agency.waitForSelector('#referral-form');
  await markNoReload(agency);

  // The form, by keyboard alone.
  await tabTo(agency, 'select[name="activityType"]');
  await arrowTo(agency, 'halsosam');
  await typeInto(agency, 'input[name="pseudonym"]', 'eb-2026-0042');
  await typeInto(agency, 'input[name="age"]', '41');
  await typeInto(agency, 'input[name="kommun"]', '1380');
  await submitByKeyboard(agency);
  await agency.waitForSelector('#form-notice .notice.ok');
  assert.match(await agency.textContent('#form-notice'), /Remiss till aktivitet skickad/);
  const referral = await agency.getAttribute('#form-notice a[data-referral]', 'data-referral');
  await agency.waitForSelector(`#mine-table tr[data-referral="${referral}"]`);
  assert.match(referral, /^regions\/13\/referrals\/[0-9A-Z]{26}$/);
  state.activityReferral = referral;

  // The provider's desk shows the offer without reload.
  const card = `.offer[data-referral="${referral}"]`;
  await provider.waitForSelector(card, {timeout: 15000});
  await assertNotReloaded(provider);
  assert.match(await provider.textContent(card), /eb-2026-0042/);
  assert.match(await provider.textContent(`${card} .hold-left`), /kvar/);
  await axeCheck(provider, 'the provider desk with an offer');
  await screenshot(provider, 'provider-desk');

  // The provider accepts, by keyboard.
  await tabTo(provider, `${card} button.accept`);
  await provider.keyboard.press('Enter');
  await provider.waitForSelector('#offers-notice .notice.ok');
  await provider.waitForSelector(card, {state: 'detached'});
  await provider.waitForSelector(`.participant[data-referral="${referral}"]`);

  // The agency's desk shows the new state without reload.
  await agency.waitForSelector(`#mine-table tr[data-referral="${referral}"][data-state="REFERRAL_STATE_ACCEPTED"]`,
    {timeout: 15000});
  await assertNotReloaded(agency);
  await tabTo(agency, `#mine-table tr[data-referral="${referral}"] button`);
  await agency.keyboard.press('Enter');
  await agency.waitForSelector(`#referral-detail [data-referral="${referral}"]`);
  assert.match(await agency.textContent('#referral-detail'), /Accepterad/);
  await axeCheck(agency, 'the agency desk with a referral open');
  await screenshot(agency, 'agency-desk', '#mine');

  // The provider records the start; the agency sees it live.
  const participant = `.participant[data-referral="${referral}"]`;
  await provider.click(`${participant} details > summary`);
  const startForm = `${participant} form[data-action="ACTION_START"]`;
  await provider.check(`${startForm} input[name="incomeSources"][value="INCOME_SOURCE_SICKNESS_BENEFIT"]`);
  await provider.selectOption(`${startForm} select[name="educationLevel"]`, 'EDUCATION_LEVEL_UPPER_SECONDARY');
  await provider.click(`${startForm} button[type="submit"]`);
  await provider.waitForSelector(`${participant} form[data-action="ACTION_EXIT"]`);
  await agency.waitForSelector(`#referral-detail [data-referral="${referral}"] .badge.state >> text=Påbörjad`,
    {timeout: 15000});
  await axeCheck(provider, 'the provider desk with a participant');
  await screenshot(provider, 'provider-participants', '#participants');
  state.agency = agency;
  state.provider = provider;
});

test('field errors are shown next to their fields, from the client and from the broker', async () => {
  requirePrerequisites();
  const agency = state.agency;
  // The client's check: a pseudonym that is a personnummer.
  await agency.fill('input[name="pseudonym"]', '19121212-1212');
  await agency.click('#referral-submit');
  const pseudonym = 'input[name="pseudonym"]';
  await agency.waitForSelector(`${pseudonym}[aria-invalid="true"]`);
  const clientError = await agency.$eval(pseudonym, (el) =>
    el.getAttribute('aria-describedby').split(' ').map((id) => document.getElementById(id).textContent).join(' '));
  assert.match(clientError, /personnummer/);
  assert.ok(await agency.$('.error-summary a'), 'the summary links to the field');

  // The broker's check: with the client's checks off (as when the rules
  // drift), an impulse for a kommun outside the region.
  await agency.evaluate(() => {
    document.querySelector('#referral-form').dataset.clientChecks = 'off';
  });
  await agency.check('input[name="kind"][value="impulse"]');
  await agency.fill('input[name="cbPhone"]', '035-13 70 00');
  await agency.fill('input[name="impulseKommun"]', '1280');
  await agency.selectOption('select[name="need"]', 'NEED_CATEGORY_OTHER');
  await agency.click('#referral-submit');
  const kommun = 'input[name="impulseKommun"]';
  await agency.waitForSelector(`${kommun}[aria-invalid="true"]`);
  const serverError = await agency.$eval(kommun, (el) =>
    el.getAttribute('aria-describedby').split(' ').map((id) => document.getElementById(id).textContent).join(' '));
  assert.match(serverError, /län 13/);
  assert.equal(await agency.$eval(kommun, (el) => el.closest('.field').querySelector('.field-error') !== null), true,
    'the error is next to the field');
  await axeCheck(agency, 'the agency form with field errors');
  await screenshot(agency, 'agency-field-errors', '#new');
  await agency.evaluate(() => {
    delete document.querySelector('#referral-form').dataset.clientChecks;
  });
});

test('a provider of another organisation cannot open the referral', async () => {
  requirePrerequisites();
  const other = await openBrowser('other-provider');
  await signIn(other, 'dev:rasmus', 'provider.html');
  await other.goto(`${world.base}/provider.html#referral=${encodeURIComponent(state.activityReferral)}`);
  await other.waitForSelector('#detail-notice .notice.error');
  assert.match(await other.textContent('#detail-notice'), /finns inte/);
  assert.equal(await other.$(`.offer[data-referral="${state.activityReferral}"]`), null);
  assert.equal(await other.$(`.participant[data-referral="${state.activityReferral}"]`), null);
  const api = await world.apiAs('dev:rasmus');
  const answer = await api.call('ReferralService', 'GetReferral', {name: state.activityReferral});
  assert.equal(answer.status, 404);
  assert.equal(answer.body.code, 'not_found');
  await other.context().close();
});

test('a breached clock appears at the top of the coordinator worklist without reload', async () => {
  requirePrerequisites();
  const coordinator = await openBrowser('coordinator');
  await signInByKeyboard(coordinator, 'dev:sara', 'coordinator.html');
  await coordinator.waitForSelector('#worklist-list table, #worklist-list .empty');
  await markNoReload(coordinator);

  // An impulse through the agency's form; the FK unit accepts it, so its
  // call-back clock (3 arbetsdagar) runs.
  const agency = state.agency;
  await agency.check('input[name="kind"][value="impulse"]');
  await agency.fill('input[name="cbPhone"]', '035-13 70 00');
  await agency.fill('input[name="impulseKommun"]', '1380');
  await agency.selectOption('select[name="need"]', 'NEED_CATEGORY_COORDINATED_REHABILITATION');
  await agency.click('#referral-submit');
  await agency.waitForSelector('#form-notice .notice.ok');
  const anna = await world.apiAs('dev:anna');
  const listed = await anna.call('ReferralService', 'ListReferrals', {parent: 'regions/13',
    filter: {kinds: ['REFERRAL_KIND_IMPULSE']}});
  const impulse = listed.body.referrals[0].name;
  const fk = await world.apiAs('dev:goran');
  let offer = '';
  for (let i = 0; i < 50 && !offer; i += 1) {
    const offers = await fk.call('OfferService', 'ListOffers', {parent: 'regions/13', states: ['OFFER_STATE_HELD']});
    offer = ((offers.body.offers || []).find((o) => o.referral === impulse) || {}).name || '';
    if (!offer) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(offer, 'the impulse was offered to the FK unit');
  assert.equal((await fk.call('OfferService', 'AcceptOffer', {name: offer})).status, 200);

  // Eight days on: the call-back is late.
  await world.advanceClock(state.admin, 8 * DAY);
  const top = '#worklist-table tbody tr:first-child';
  await coordinator.waitForSelector(`#worklist-table tr[data-referral="${impulse}"][data-state="CLOCK_STATE_BREACHED"]`,
    {timeout: 15000});
  await assertNotReloaded(coordinator);
  assert.equal(await coordinator.getAttribute(top, 'data-state'), 'CLOCK_STATE_BREACHED');
  assert.match(await coordinator.textContent(top), /Överskriden/);
  assert.match(await coordinator.textContent(top), /arbetsdag/);
  assert.match(await coordinator.title(), /^\(\d+ (ny överskriden|nya överskridna)\) Samordnare/);
  assert.match(await coordinator.textContent(`#worklist-table tr[data-referral="${impulse}"]`), /senast \S+ \d+ \S+/);
  await coordinator.click('#response-period button[type="submit"]');
  await coordinator.click('#outcomes-period button[type="submit"]');
  await coordinator.waitForSelector('#response-body table, #response-body .empty');
  await coordinator.waitForSelector('#outcomes-body table, #outcomes-body .empty');
  // The impulse is counted apart: it carries no person.
  assert.match(await coordinator.textContent('#outcomes-impulses'),
    /^Impulser \(räknas inte som deltagare\): [1-9]\d* mottagna/);
  await axeCheck(coordinator, 'the coordinator desk with a breach');
  await screenshot(coordinator, 'coordinator-desk');
});

// Sends an activity referral to Hälsosam through the agency's form and
// returns its name once the provider's desk shows the offer.
async function sendActivity(agency, provider, pseudonym) {
  await agency.check('input[name="kind"][value="activity"]');
  await agency.selectOption('select[name="activityType"]', 'halsosam');
  await agency.fill('input[name="pseudonym"]', pseudonym);
  await agency.fill('input[name="age"]', '35');
  await agency.fill('input[name="kommun"]', '1381');
  await agency.click('#referral-submit');
  await agency.waitForSelector('#form-notice .notice.ok');
  const referral = await agency.getAttribute('#form-notice a[data-referral]', 'data-referral');
  await provider.waitForSelector(`.offer[data-referral="${referral}"]`, {timeout: 15000});
  return referral;
}

test('the agency cancels an offered referral and the offer leaves the provider desk live', async () => {
  requirePrerequisites();
  const {agency, provider} = state;
  const referral = await sendActivity(agency, provider, 'eb-2026-0043');
  await agency.click(`#mine-table tr[data-referral="${referral}"] button`);
  await agency.waitForSelector(`#referral-detail [data-referral="${referral}"] #cancel-form`);
  // A cancel without a reason is refused at the field.
  await agency.click('#cancel-form button[type="submit"]');
  await agency.waitForSelector('#cancel-form select[name="reason"][aria-invalid="true"]');
  await agency.selectOption('#cancel-form select[name="reason"]', 'CANCEL_REASON_SENT_IN_ERROR');
  await agency.click('#cancel-form button[type="submit"]');
  // Either answer, so that a refusal fails the test with its words.
  await agency.waitForSelector('#detail-notice .notice.ok, #referral-detail .notice.error');
  // (The message is read only when there is an error to read: waiting for
  // one that is not there would take Playwright's whole timeout.)
  const cancelError = await agency.$('#referral-detail .notice.error');
  assert.equal(cancelError, null, cancelError ? await cancelError.textContent() : '');
  assert.match(await agency.textContent('#referral-detail'), /Återkallad/);
  await agency.waitForSelector(`#mine-table tr[data-referral="${referral}"]`, {state: 'detached'});
  // Without reload: the cancel's event names the provider that held the
  // offer, so the provider's stream carries it.
  await provider.waitForSelector(`.offer[data-referral="${referral}"]`, {state: 'detached', timeout: 15000});
  await assertNotReloaded(provider);
});

test('a change arriving while the agency fills in a form keeps what was typed', async () => {
  requirePrerequisites();
  const {agency, provider} = state;
  const referral = await sendActivity(agency, provider, 'eb-2026-0044');
  await agency.click(`#mine-table tr[data-referral="${referral}"] button`);
  await agency.waitForSelector(`#referral-detail [data-referral="${referral}"] #cancel-form`);
  await agency.selectOption('#cancel-form select[name="reason"]', 'CANCEL_REASON_DUPLICATE');
  await agency.fill('#cancel-form textarea[name="note"]', 'Skickad två gånger');
  // The provider accepts meanwhile (through the API): the referral changes
  // under the open form, and the desk hears of it live.
  const helena = await world.apiAs('dev:helena');
  const offers = await helena.call('OfferService', 'ListOffers', {parent: 'regions/13',
    states: ['OFFER_STATE_HELD']});
  const offer = (offers.body.offers || []).find((o) => o.referral === referral);
  assert.ok(offer, `no held offer of ${referral}: ${JSON.stringify(offers.body)}`);
  const accepted = await helena.call('OfferService', 'AcceptOffer', {name: offer.name, person: 'h567'});
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  // What was typed stays; the desk says the referral changed.
  await agency.waitForSelector('#detail-notice .stale');
  assert.equal(await agency.inputValue('#cancel-form select[name="reason"]'), 'CANCEL_REASON_DUPLICATE');
  assert.equal(await agency.inputValue('#cancel-form textarea[name="note"]'), 'Skickad två gånger');
  // Asked for, the latest is shown: accepted.
  await agency.click('#detail-notice .stale button');
  await agency.waitForFunction((name) => {
    const detail = document.querySelector('#referral-detail');
    return detail && detail.querySelector(`[data-referral="${name}"]`) && !detail.querySelector('.stale') &&
      /Accepterad|Antagen|Tackat ja/i.test(detail.textContent);
  }, referral, {timeout: 15000});
  await assertNotReloaded(agency);
});

test('the provider declines with a coded reason and adds a cohort', async () => {
  requirePrerequisites();
  const {agency, provider} = state;
  const referral = await sendActivity(agency, provider, 'eb-2026-0045');
  const card = `.offer[data-referral="${referral}"]`;
  await provider.click(`${card} details > summary`);
  await provider.click(`${card} .decline-form button[type="submit"]`);
  await provider.waitForSelector(`${card} select[name="reason"][aria-invalid="true"]`);
  await provider.selectOption(`${card} select[name="reason"]`, 'DECLINE_REASON_NO_CAPACITY');
  await provider.click(`${card} .decline-form button[type="submit"]`);
  await provider.waitForSelector('#offers-notice .notice.ok');
  await provider.waitForSelector(card, {state: 'detached'});
  const anna = await world.apiAs('dev:anna');
  const after = await anna.call('ReferralService', 'GetReferral', {name: referral});
  assert.notEqual(after.body.state, 'REFERRAL_STATE_OFFERED');
  const decline = (after.body.history || []).find((tr) => tr.action === 'ACTION_DECLINE');
  assert.equal(decline && decline.declineReason, 'DECLINE_REASON_NO_CAPACITY');

  // A new cohort, 60 days on.
  const cohorts = await provider.$$eval('#capacity-list [data-cohort]', (els) => els.length);
  const start = new Date(world.clock.getTime() + 60 * DAY).toISOString().slice(0, 10);
  const cohortForm = '#capacity-list .cohort-form';
  await provider.fill(`${cohortForm} input[name="start"]`, start);
  await provider.click(`${cohortForm} button[type="submit"]`);
  await provider.waitForSelector('#capacity-notice .notice.ok');
  assert.equal(await provider.$$eval('#capacity-list [data-cohort]', (els) => els.length), cohorts + 1);
});

test('a referral the provider could not contact comes back to the agency, which sends it to the queue again by keyboard', async () => {
  requirePrerequisites();
  const {agency, provider} = state;
  const referral = await sendActivity(agency, provider, 'eb-2026-0049');
  await markNoReload(agency);
  const row = `#mine-table tr[data-referral="${referral}"]`;
  await agency.click(`${row} button`);
  await agency.waitForSelector(`#referral-detail [data-referral="${referral}"] #cancel-form`);

  // The provider could not reach the participant (through the API).
  const helena = await world.apiAs('dev:helena');
  const offers = await helena.call('OfferService', 'ListOffers', {parent: 'regions/13',
    states: ['OFFER_STATE_HELD']});
  const offer = (offers.body.offers || []).find((o) => o.referral === referral);
  assert.ok(offer, `no held offer of ${referral}: ${JSON.stringify(offers.body)}`);
  const declineNote = 'Inget svar på telefon tre dagar i rad';
  const declined = await helena.call('OfferService', 'DeclineOffer', {name: offer.name,
    reason: 'DECLINE_REASON_COULD_NOT_CONTACT', note: declineNote});
  assert.equal(declined.status, 200, JSON.stringify(declined.body));
  await provider.waitForSelector(`.offer[data-referral="${referral}"]`, {state: 'detached', timeout: 15000});

  // The agency's desk shows it returned, without reload, in the list and
  // in the open detail, with why in the resubmit form.
  await agency.waitForSelector(`${row}[data-state="REFERRAL_STATE_RETURNED"]`, {timeout: 15000});
  assert.equal(await agency.textContent(`${row} .badge.state`), 'Återlämnad till remittenten');
  const form = `#referral-detail [data-referral="${referral}"] #resubmit-form`;
  await agency.waitForSelector(form, {timeout: 15000});
  await assertNotReloaded(agency);
  assert.equal(await agency.textContent(`#referral-detail [data-referral="${referral}"] .badge.state`),
    'Återlämnad till remittenten');
  assert.match(await agency.textContent(`${form} > p.hint`),
    new RegExp(`^Utförarens skäl: Fick inte kontakt\\. Kommentar: ${declineNote}\\.`));
  await axeCheck(agency, 'the agency desk with a returned referral and its resubmit form');

  // Sent back with a note, by keyboard; every announcement is kept, as
  // live events announce themselves right after.
  await agency.evaluate(() => {
    window.slussenAnnounced = [];
    new MutationObserver(() => window.slussenAnnounced.push(document.querySelector('#live').textContent))
      .observe(document.querySelector('#live'), {childList: true, characterData: true, subtree: true});
  });
  const resubmitNote = 'Nytt telefonnummer: 070-123 45 67';
  await typeInto(agency, `${form} textarea[name="note"]`, resubmitNote);
  await tabTo(agency, `${form} button[type="submit"]`);
  await agency.keyboard.press('Enter');
  // Either answer, so that a refusal fails the test with its words.
  const refusal = `#referral-detail .notice.error, ${form} .field-error`;
  await agency.waitForFunction((refused) => window.slussenAnnounced.includes('Remissen är tillbaka i kön.') ||
    document.querySelector(refused), refusal);
  const refused = await agency.$(refusal);
  assert.equal(refused, null, refused ? await refused.textContent() : '');

  // Back in the wait, or offered again already; the list says which.
  const anna = await world.apiAs('dev:anna');
  const back = (await anna.call('ReferralService', 'GetReferral', {name: referral})).body;
  assert.ok(['REFERRAL_STATE_QUEUED', 'REFERRAL_STATE_OFFERED'].includes(back.state), back.state);
  const resubmit = (back.history || []).find((tr) => tr.action === 'ACTION_RESUBMIT');
  assert.equal(resubmit && resubmit.note, resubmitNote);
  await agency.waitForFunction((selector) => {
    const tr = document.querySelector(selector);
    return tr && /^REFERRAL_STATE_(QUEUED|OFFERED)$/.test(tr.dataset.state);
  }, row, {timeout: 15000});
  assert.match(await agency.textContent(`${row} .badge.state`), /^(I kö|Erbjuden)$/);
  await assertNotReloaded(agency);
});

test('a second open referral of one participant asks the agency why', async () => {
  requirePrerequisites();
  const {agency, provider} = state;
  const first = await sendActivity(agency, provider, 'eb-2026-0046');
  await agency.check('input[name="kind"][value="activity"]');
  await agency.selectOption('select[name="activityType"]', 'halsosam');
  await agency.fill('input[name="pseudonym"]', 'eb-2026-0046');
  await agency.fill('input[name="age"]', '35');
  await agency.fill('input[name="kommun"]', '1381');
  assert.equal(await agency.isVisible('#second-reason'), false);
  await agency.click('#referral-submit');
  await agency.waitForSelector('#form-notice .notice.error');
  assert.match(await agency.textContent('#form-notice'), new RegExp(first));
  // The reason field appears, with the focus in it.
  await agency.waitForSelector('#second-reason textarea', {state: 'visible'});
  assert.equal(await agency.evaluate(() => document.activeElement.name), 'secondReason');
  await agency.keyboard.type('Byter till kvällsgruppen efter ny anställning');
  await agency.click('#referral-submit');
  await agency.waitForSelector('#form-notice .notice.ok');
  const second = await agency.getAttribute('#form-notice a[data-referral]', 'data-referral');
  assert.notEqual(second, first);
  const anna = await world.apiAs('dev:anna');
  const made = await anna.call('ReferralService', 'GetReferral', {name: second});
  assert.equal(made.body.secondReferralReason, 'Byter till kvällsgruppen efter ny anställning');
  await axeCheck(agency, 'the agency form asking why a second referral');
});

// The text of the error messages that describe `selector`.
async function errorText(page, selector) {
  return page.$eval(selector, (el) => (el.getAttribute('aria-describedby') || '').split(' ')
    .map((id) => document.getElementById(id)).filter((e) => e && e.classList.contains('field-error'))
    .map((e) => e.textContent).join(' '));
}

test('a participant with protected personal data is sent by keyboard without kommun, through the referrer', async () => {
  requirePrerequisites();
  const {agency, provider} = state;
  const form = '#referral-form';
  await agency.check(`${form} input[name="kind"][value="activity"]`);
  await agency.focus(`${form} input[name="kind"][value="activity"]`);
  // By keyboard: the activity, the referrer's name left empty, the
  // participant, and the box.
  await tabTo(agency, 'select[name="activityType"]');
  await arrowTo(agency, 'halsosam');
  await tabTo(agency, 'input[name="refName"]');
  await agency.keyboard.press('Control+A');
  await agency.keyboard.press('Backspace');
  await typeInto(agency, 'input[name="pseudonym"]', 'eb-2026-0047');
  await tabTo(agency, '#protected-data');
  await agency.keyboard.press('Space');
  await typeInto(agency, 'input[name="age"]', '35');
  assert.equal(await agency.isChecked('#protected-data'), true);
  // No kommun is kept; the referrer is now required.
  assert.equal(await agency.isVisible('input[name="kommun"]'), false);
  assert.equal(await agency.isVisible('#referrer-protected-hint'), true);
  assert.equal(await agency.getAttribute('input[name="refName"]', 'aria-required'), 'true');
  await submitByKeyboard(agency);

  // Refused by the client, next to the referrer's fields; nothing sent.
  await agency.waitForSelector('input[name="refName"][aria-invalid="true"]');
  assert.match(await errorText(agency, 'input[name="refName"]'), /Ange ditt namn/);
  assert.equal(await agency.$eval('input[name="refName"]', (el) =>
    el.closest('.field').querySelector('.field-error') !== null), true, 'the error is next to the field');
  assert.match(await errorText(agency, 'input[name="refPhone"]'), /telefon eller e-post/);
  assert.equal(await agency.$('#form-notice .notice'), null);
  await axeCheck(agency, 'the agency form for a protected participant, refused');

  // Given, by keyboard (forward from the error summary), it is sent.
  await typeInto(agency, 'input[name="refName"]', 'Anna Andersson');
  await typeInto(agency, 'input[name="refPhone"]', '035-13 70 00');
  await submitByKeyboard(agency);
  await agency.waitForSelector('#form-notice .notice.ok, #form-notice .notice.error');
  assert.equal(await agency.$('#form-notice .notice.error'), null,
    await agency.textContent('#form-notice').catch(() => ''));
  const referral = await agency.getAttribute('#form-notice a[data-referral]', 'data-referral');
  const anna = await world.apiAs('dev:anna');
  const made = (await anna.call('ReferralService', 'GetReferral', {name: referral})).body;
  assert.equal(made.protectedPersonalData, true);
  assert.equal((made.participant.attributes || {}).kommunCode, undefined);
  assert.equal(made.referrer.displayName, 'Anna Andersson');

  // The detail says how to reach the participant.
  await tabTo(agency, '#form-notice a[data-referral]');
  await agency.keyboard.press('Enter');
  const fact = `#referral-detail [data-referral="${referral}"] dd.protected`;
  await agency.waitForSelector(fact);
  assert.equal(await agency.textContent(`#referral-detail [data-referral="${referral}"] dt.protected`),
    'Skyddade personuppgifter');
  assert.equal(await agency.textContent(fact),
    'Ja – kontakta deltagaren via remittenten: Anna Andersson, 035-13 70 00');
  assert.ok(await agency.$('#protection-form[data-protect="lift"]'), 'the marking can be lifted');
  await axeCheck(agency, 'the agency desk with a protected referral open');

  // So does the provider's offer, live.
  const offerFact = `.offer[data-referral="${referral}"] dd.protected`;
  await provider.waitForSelector(offerFact, {timeout: 15000});
  assert.match(await provider.textContent(offerFact), /via remittenten: Anna Andersson, 035-13 70 00/);
  await axeCheck(provider, 'the provider desk with a protected offer');
});

test('the agency marks a referral as protected afterwards, giving the phone it lacked, and lifts it', async () => {
  requirePrerequisites();
  const {agency} = state;
  const referral = state.activityReferral;
  await agency.click(`#mine-table tr[data-referral="${referral}"] button`);
  const protection = `#referral-detail [data-referral="${referral}"] #protection-form`;
  await agency.waitForSelector(`${protection}[data-protect="set"]`);
  // Without why, and without a phone (the referral names its referrer by
  // name only): refused at both fields.
  await agency.click(`${protection} button[type="submit"]`);
  await agency.waitForSelector(`${protection} textarea[name="note"][aria-invalid="true"]`);
  assert.match(await errorText(agency, `${protection} input[name="refPhone"]`), /telefon eller e-post/);
  await agency.fill(`${protection} textarea[name="note"]`, 'Sekretessmarkering enligt Skatteverket');
  await agency.fill(`${protection} input[name="refPhone"]`, '035-13 70 01');
  await agency.click(`${protection} button[type="submit"]`);
  await agency.waitForSelector('#detail-notice .notice.ok, #referral-detail .notice.error');
  const refused = await agency.$('#referral-detail .notice.error');
  assert.equal(refused, null, refused ? await refused.textContent() : '');
  const fact = `#referral-detail [data-referral="${referral}"] dd.protected`;
  await agency.waitForSelector(fact);
  assert.match(await agency.textContent(fact), /via remittenten: Anna Andersson, 035-13 70 01$/);
  assert.match(await agency.textContent('#referral-detail table'), /Skyddade personuppgifter ändrade/);
  const anna = await world.apiAs('dev:anna');
  const marked = (await anna.call('ReferralService', 'GetReferral', {name: referral})).body;
  assert.equal(marked.protectedPersonalData, true);
  assert.equal((marked.participant.attributes || {}).kommunCode, undefined, 'the kommun is removed');

  // Lifted, with why.
  await agency.waitForSelector(`${protection}[data-protect="lift"]`);
  await agency.fill(`${protection} textarea[name="note"]`, 'Skyddet har upphört');
  await agency.click(`${protection} button[type="submit"]`);
  await agency.waitForFunction(() => /hävd/.test((document.querySelector('#detail-notice') || {}).textContent || ''));
  // The notice may come before the referral is drawn again: wait for the
  // form (a timeout fails the test as the assertion did).
  await agency.waitForSelector(`${protection}[data-protect="set"]`);
  assert.ok(await agency.$(`${protection}[data-protect="set"]`), 'the marking can be set again');
  assert.equal(await agency.$(fact), null);
});

test('a joint referral FK leads shows in the informed kommun\'s desk with its parties, and no cancel', async () => {
  requirePrerequisites();
  const {agency} = state;  // Anna, kommun Halmstad: kept informed.
  const fk = await world.apiAs('dev:fatima');
  const consentStart = new Date(Date.now() - DAY).toISOString();
  const made = (await fk.call('ReferralService', 'CreateReferral', {
    parent: 'regions/13',
    requestId: 'web-joint-1',
    referral: {
      participant: {pseudonym: 'lfc-hd-2026-0301', attributes: {ageYears: 38, kommunCode: '1381'}},
      consent: {
        scopes: [
          {partyClass: 'PARTY_CLASS_ASSIGNED_PROVIDER',
            dataCategories: ['DATA_CATEGORY_ELIGIBILITY', 'DATA_CATEGORY_CASE_DETAILS']},
          {organisation: 'af-halmstad', dataCategories: ['DATA_CATEGORY_ELIGIBILITY', 'DATA_CATEGORY_OUTCOME']},
          {organisation: 'kommun-halmstad-eb', dataCategories: ['DATA_CATEGORY_OUTCOME']},
        ],
        purpose: 'CONSENT_PURPOSE_COORDINATED_REHABILITATION',
        startTime: consentStart,
        form: 'CONSENT_FORM_WRITTEN',
      },
      activity: {activityType: 'redo', note: 'Kartlagt tillsammans med AF och kommunen'},
      joint: {
        fundingOrganisation: 'samordning-halland',
        parties: [
          {organisation: 'af-halmstad', role: 'JOINT_PARTY_ROLE_CO_REFERRER'},
          {organisation: 'kommun-halmstad-eb', role: 'JOINT_PARTY_ROLE_INFORMED'},
        ],
      },
    },
  })).body;
  assert.ok(made.name, JSON.stringify(made));
  // It comes to Anna's list without reload: her kommun is a party.
  const row = `#mine-table tr[data-referral="${made.name}"]`;
  await agency.waitForSelector(row);
  await agency.click(`${row} button`);
  const detail = `#referral-detail [data-referral="${made.name}"]`;
  await agency.waitForSelector(`${detail} .joint-parties`);
  const text = await agency.textContent(detail);
  assert.match(text, /Samordnad insats/);
  assert.match(text, /Finansieras av samordning-halland; fk-lfc-halmstad leder/);
  assert.match(text, /af-halmstad: Medremittent/);
  assert.match(text, /kommun-halmstad-eb: Informeras \(ser: Start, närvaro, avslut och utfall\)/);
  // The consent gives her kommun no case details and no participant.
  assert.doesNotMatch(text, /Kartlagt tillsammans/);
  assert.doesNotMatch(text, /lfc-hd-2026-0301/);
  // Kept informed: no action.
  assert.equal(await agency.$('#cancel-form'), null);
  await axeCheck(agency, 'a joint referral in the informed kommun\'s desk');
});

// The Europe/Stockholm day of `date`, "YYYY-MM-DD".
function stockholmDay(date) {
  return new Intl.DateTimeFormat('en-CA', {timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit',
    day: '2-digit'}).format(date);
}

test('SUS: the provider registers start and end by keyboard; the coordinator exports both rows and their CSV', async () => {
  requirePrerequisites();
  const {agency, provider} = state;
  const pseudonym = 'eb-2026-0048';
  const referral = await sendActivity(agency, provider, pseudonym);
  const card = `.offer[data-referral="${referral}"]`;
  await provider.focus(`${card} button.accept`);
  await provider.keyboard.press('Enter');
  await provider.waitForSelector(card, {state: 'detached'});
  const participant = `.participant[data-referral="${referral}"]`;
  await provider.waitForSelector(participant);

  // An in-registration that breaks the rules ("no own income" with another
  // source, no level of education) is refused by the client, next to the
  // fields. (Ticking a box first also keeps live updates from redrawing
  // the form under the keyboard.)
  await provider.focus(`${participant} details > summary`);
  await provider.keyboard.press('Enter');
  const start = `${participant} form[data-action="ACTION_START"]`;
  const income = (value) => `${start} input[name="incomeSources"][value="${value}"]`;
  await provider.waitForSelector(`${start} fieldset[data-sus="in"]`, {state: 'visible'});
  await tabTo(provider, income('INCOME_SOURCE_NONE'));
  await provider.keyboard.press('Space');
  await tabTo(provider, income('INCOME_SOURCE_OTHER'));
  await provider.keyboard.press('Space');
  await tabTo(provider, `${start} button[type="submit"]`);
  await provider.keyboard.press('Enter');
  await provider.waitForSelector(`${start} select[name="educationLevel"][aria-invalid="true"]`);
  assert.match(await errorText(provider, `${start} select[name="educationLevel"]`), /Välj ett alternativ/);
  assert.match(await errorText(provider, `${start} input[name="incomeSources"]`), /kan inte kombineras/);
  assert.match(await provider.textContent(`${start} .error-summary`), /Försörjning före start/);
  await axeCheck(provider, 'the provider start form with the in-registration refused');

  // By keyboard (forward from the error summary): income before the start
  // and the level of education.
  for (const value of ['INCOME_SOURCE_SICKNESS_BENEFIT', 'INCOME_SOURCE_FINANCIAL_ASSISTANCE',
    'INCOME_SOURCE_NONE', 'INCOME_SOURCE_OTHER']) {
    await tabTo(provider, income(value));
    await provider.keyboard.press('Space');
  }
  await tabTo(provider, `${start} select[name="educationLevel"]`);
  await arrowTo(provider, 'EDUCATION_LEVEL_UPPER_SECONDARY');
  assert.deepEqual(await provider.$$eval(`${start} input[name="incomeSources"]:checked`, (els) => els.map((e) => e.value)),
    ['INCOME_SOURCE_SICKNESS_BENEFIT', 'INCOME_SOURCE_FINANCIAL_ASSISTANCE']);
  await tabTo(provider, `${start} button[type="submit"]`);
  await provider.keyboard.press('Enter');
  const complete = `${participant} form[data-action="ACTION_COMPLETE"]`;
  // Either answer, so that a refusal fails the test with its words.
  const refusal = `${participant} .notice.error, ${start} .field-error`;
  await provider.waitForSelector(`${complete}, ${refusal}`);
  const startRefused = await provider.$(refusal);
  assert.equal(startRefused, null, startRefused ? await startRefused.textContent() : '');

  // The agency's history of the referral shows the in-registration.
  await agency.click(`#mine-table tr[data-referral="${referral}"] button`);
  await agency.waitForSelector(`#referral-detail [data-referral="${referral}"]`);
  await agency.waitForFunction(() => /Utbildning: Gymnasial/.test(document.querySelector('#referral-detail').textContent));
  assert.match(await agency.textContent('#referral-detail table'),
    /Försörjning: Sjukpenning\/rehabiliteringspenning, Ekonomiskt bistånd · Utbildning: Gymnasial/);

  // The out-registration, by keyboard: a reason, income after, work, AF.
  await provider.focus(`${participant} details > summary`);
  await tabTo(provider, `${complete} input[name="reasons"][value="OUTCOME_REASON_WORK"]`);
  await provider.keyboard.press('Space');
  await tabTo(provider, `${complete} input[name="incomeSources"][value="INCOME_SOURCE_EMPLOYMENT"]`);
  await provider.keyboard.press('Space');
  await tabTo(provider, `${complete} select[name="workKind"]`);
  await arrowTo(provider, 'WORK_KIND_UNSUBSIDISED');
  await tabTo(provider, `${complete} input[name="registeredWithAf"]`);
  await provider.keyboard.press('Space');
  await axeCheck(provider, 'the provider complete form with the out-registration');
  await tabTo(provider, `${complete} button[type="submit"]`);
  await provider.keyboard.press('Enter');
  const completeRefusal = `${participant} .notice.error, ${complete} .field-error`;
  await provider.waitForFunction(([form, refused]) => !document.querySelector(form) || document.querySelector(refused),
    [complete, completeRefusal]);
  const completeRefused = await provider.$(completeRefusal);
  assert.equal(completeRefused, null, completeRefused ? await completeRefused.textContent() : '');
  assert.match(await provider.textContent('#participants-notice'), /Avsluta som planerat: Sparat/);
  const anna = await world.apiAs('dev:anna');
  const ended = (await anna.call('ReferralService', 'GetReferral', {name: referral})).body;
  const sus = (action) => ((ended.history || []).find((tr) => tr.action === action) || {}).sus;
  assert.deepEqual(sus('ACTION_START'), {incomeSources: ['INCOME_SOURCE_SICKNESS_BENEFIT',
    'INCOME_SOURCE_FINANCIAL_ASSISTANCE'], educationLevel: 'EDUCATION_LEVEL_UPPER_SECONDARY'});
  assert.deepEqual(sus('ACTION_COMPLETE'), {incomeSources: ['INCOME_SOURCE_EMPLOYMENT'],
    workKind: 'WORK_KIND_UNSUBSIDISED', registeredWithAf: true});

  // The coordinator's export: the previous month by default; asked for a
  // period that covers the testing clock's day, it lists both registrations.
  const coordinator = await openBrowser('coordinator-sus');
  await signIn(coordinator, 'dev:sara', 'coordinator.html');
  const form = '#sus-period';
  await coordinator.waitForSelector(form);
  assert.match(await coordinator.inputValue(`${form} input[name="from"]`), /^\d{4}-\d{2}-01$/);
  const today = stockholmDay(world.clock);
  const from = stockholmDay(new Date(world.clock.getTime() - DAY));
  await coordinator.fill(`${form} input[name="from"]`, from);
  await coordinator.fill(`${form} input[name="to"]`, today);
  await coordinator.click(`${form} button[type="submit"]`);
  await coordinator.waitForSelector('#sus-rows, #sus-body .empty, #sus-notice .notice.error');
  const exportRefused = await coordinator.$('#sus-notice .notice.error');
  assert.equal(exportRefused, null, exportRefused ? await exportRefused.textContent() : '');
  const row = (moment) => `#sus-rows tr[data-referral="${referral}"][data-moment="${moment}"]`;
  const inRow = await coordinator.textContent(row('SUS_MOMENT_IN'));
  assert.match(inRow, /Inskrivning/);
  assert.match(inRow, new RegExp(pseudonym));
  assert.match(inRow, /Sjukpenning\/rehabiliteringspenning, Ekonomiskt bistånd · Utbildning: Gymnasial/);
  const outRow = await coordinator.textContent(row('SUS_MOMENT_OUT'));
  assert.match(outRow, /Utskrivning/);
  assert.match(outRow, /Avslutat \(Arbete\)/);
  assert.match(outRow, /Försörjning: Lön från anställning · Arbete: Osubventionerad anställning · Studerar: nej · Inskriven på AF: ja/);
  assert.ok(await coordinator.$('#sus-monthly caption'), 'the monthly counts are shown');
  await coordinator.waitForFunction(() => /registreringar? under perioden/.test(document.querySelector('#live').textContent));

  // The CSV download is the broker's CSV: one line per row shown, the
  // referral's two among them.
  const [download] = await Promise.all([coordinator.waitForEvent('download'), coordinator.click('#sus-csv')]);
  assert.match(download.suggestedFilename(), /^sus-registreringar-.*\.csv$/);
  const csv = fs.readFileSync(await download.path(), 'utf8').replace(/^\ufeff/, '');
  const sara = await world.apiAs('dev:sara');
  const exported = await sara.call('CoordinatorService', 'ExportSusRegistrations', {parent: 'regions/13',
    startDate: dayOf(from), endDate: dayOf(today)});
  assert.equal(exported.status, 200, JSON.stringify(exported.body));
  assert.equal(csv, exported.body.csv);
  const lines = csv.trim().split('\n');
  assert.equal(lines.length - 1, await coordinator.$$eval('#sus-rows tbody tr', (els) => els.length));
  const mine = lines.slice(1).filter((line) => line.split(';').includes(referral));
  assert.deepEqual(mine.map((line) => line.split(';').find((c) => c === 'IN' || c === 'OUT')).sort(), ['IN', 'OUT']);
  assert.ok(mine.every((line) => line.split(';').includes(pseudonym)), mine.join('\n'));

  // The outcome report: income before and after, and who moved to work.
  await coordinator.fill('#outcomes-period input[name="from"]', from);
  await coordinator.fill('#outcomes-period input[name="to"]', today);
  await coordinator.click('#outcomes-period button[type="submit"]');
  await coordinator.waitForSelector('#income-table');
  assert.match(await coordinator.textContent('#outcomes-moved'), /^Av \d+ med både in- och utskrivning registrerad gick [1-9]\d* från/);
  assert.match(await coordinator.textContent('#income-table'), /Ekonomiskt bistånd\s*Lön från anställning/);
  // The joint referral FK made earlier in this run, once per agency in its part.
  assert.match(await coordinator.textContent('#outcomes-joint-made'), /^Samordnade insatser gjorda under perioden: 1\./);
  const joint = await coordinator.$$eval('#outcomes-joint tbody tr',
    (rows) => rows.map((r) => [...r.children].map((c) => c.textContent).join(' ')));
  assert.deepEqual(joint, ['af-halmstad 0 1 0 0', 'fk-lfc-halmstad 1 0 0 0', 'kommun-halmstad-eb 0 0 1 0']);
  await axeCheck(coordinator, 'the coordinator desk with the SUS export and income table');
  await screenshot(coordinator, 'coordinator-sus', '#sus');
  await coordinator.context().close();
});

test('an agency makes a joint referral in the form by keyboard; the informed kommun sees it live', async () => {
  requirePrerequisites();
  const {agency} = state;  // Anna, kommun Halmstad: to be kept informed.
  const lars = await openBrowser('lars');  // kommun Laholm leads.
  await signInByKeyboard(lars, 'dev:lars', 'agency.html');
  await lars.waitForSelector('#referral-form');
  assert.equal(await lars.isVisible('#joint-body'), false, 'the joint part is closed until asked for');

  await tabTo(lars, 'select[name="activityType"]');
  await arrowTo(lars, 'redo');
  await tabTo(lars, '#joint-on');
  await lars.keyboard.press('Space');
  await lars.waitForSelector('#joint-body', {state: 'visible'});
  await typeInto(lars, 'input[name="jointFunder"]', 'samordning-halland');
  await typeInto(lars, 'input[name="jointOrg1"]', 'af-halmstad');
  // Part 1 sees eligibility too.
  await tabTo(lars, 'input[name="jointSees1"][value="DATA_CATEGORY_ELIGIBILITY"]');
  await lars.keyboard.press('Space');
  // A second party: the new one takes the focus.
  await tabTo(lars, '#joint-add');
  await lars.keyboard.press('Enter');
  await lars.waitForFunction(() => document.activeElement.name === 'jointOrg2');
  assert.match(await lars.textContent('.joint-party[data-party="2"] legend'), /^Part 2$/);
  // Laholm itself first: the client refuses it next to the field.
  await lars.keyboard.type('kommun-laholm-eb');
  await tabTo(lars, 'input[name="jointRole2"]:checked');
  await arrowTo(lars, 'JOINT_PARTY_ROLE_INFORMED');
  await typeInto(lars, 'input[name="pseudonym"]', 'lb-2026-0077');
  await typeInto(lars, 'input[name="age"]', '44');
  await typeInto(lars, 'input[name="kommun"]', '1381');
  await submitByKeyboard(lars);
  const second = 'input[name="jointOrg2"]';
  await lars.waitForSelector(`${second}[aria-invalid="true"]`);
  assert.match(await errorText(lars, second), /Din egen organisation leder/);
  await axeCheck(lars, 'the agency form with a joint referral and a field error');
  await screenshot(lars, 'agency-joint-form', '#new');

  await lars.fill(second, '');
  await lars.focus(second);
  await lars.keyboard.type('kommun-halmstad-eb');
  await submitByKeyboard(lars);
  await lars.waitForSelector('#form-notice .notice.ok');
  const name = await lars.getAttribute('#form-notice a[data-referral]', 'data-referral');

  // As written: the funder, the parties and their parts, a consent scope
  // for each party with what the form said it may see.
  const made = (await (await world.apiAs('dev:lars')).call('ReferralService', 'GetReferral', {name})).body;
  assert.equal(made.joint.fundingOrganisation, 'samordning-halland');
  assert.deepEqual(made.joint.parties.map((p) => [p.organisation, p.role, (p.dataCategories || []).sort()]), [
    ['af-halmstad', 'JOINT_PARTY_ROLE_CO_REFERRER', ['DATA_CATEGORY_ELIGIBILITY', 'DATA_CATEGORY_OUTCOME']],
    ['kommun-halmstad-eb', 'JOINT_PARTY_ROLE_INFORMED', ['DATA_CATEGORY_OUTCOME']],
  ]);

  // Anna's kommun is kept informed: it comes to her list without reload.
  const row = `#mine-table tr[data-referral="${name}"]`;
  await agency.waitForSelector(row, {timeout: 15000});
  await agency.click(`${row} button`);
  const detail = `#referral-detail [data-referral="${name}"]`;
  await agency.waitForSelector(`${detail} .joint-parties`);
  assert.match(await agency.textContent(detail), /Finansieras av samordning-halland; kommun-laholm-eb leder/);
  assert.equal(await agency.$('#cancel-form'), null);
  await lars.context().close();
});

// "YYYY-MM-DD" as a slussen.v1.Date.
function dayOf(text) {
  const [year, month, day] = text.split('-').map(Number);
  return {year, month, day};
}

test('no page broke the Content-Security-Policy or threw', () => {
  requirePrerequisites();
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(pageErrors, []);
});
