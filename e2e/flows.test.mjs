// The web page's flows in a real headless Chromium, against the real saidno binary and database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { ACCOUNT_SID, AUTH_TOKEN, axePath, launch, shot, shots, skip, startSaidno } from './harness.mjs';

const PUSHY = '+442079460123';
// The same number as the log shows it to an owner in GB.
const PUSHY_DIALLED = '020 7946 0123';
const RECORDING = `/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/RE0123456789abcdef0123456789abcdef`;
const PLIVO_TOKEN = 'e2e-plivo-auth-token';
const PLIVO_AUTH_ID = 'MAXXXXXXXXXXXXXXXXXX';
const PLIVO_RECORDING = `/v1/Account/${PLIVO_AUTH_ID}/Recording/d405c4eb-d562-4399-af32-6ff3c57fa559.mp3`;

// A second of a 440 Hz tone as 8 kHz, 16-bit mono WAV: a message the browser can really play.
function toneWav() {
  const samples = 8000;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0); wav.writeUInt32LE(36 + samples * 2, 4); wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16); wav.writeUInt16LE(1, 20); wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(8000, 24); wav.writeUInt32LE(16000, 28); wav.writeUInt16LE(2, 32); wav.writeUInt16LE(16, 34);
  wav.write('data', 36); wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) wav.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), 44 + i * 2);
  return wav;
}
const VOICEMAIL = toneWav();

let saidno;
let dir;
let base;
let context;
// Stands in for Twilio's recordings and Plivo's media host: each account's recording, only to
// that account's credentials.
let recordings;

before(async () => {
  if (skip) return;
  recordings = createServer((request, response) => {
    const [user, secret] = request.url === PLIVO_RECORDING ? [PLIVO_AUTH_ID, PLIVO_TOKEN] : [ACCOUNT_SID, AUTH_TOKEN];
    const expected = `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
    if (request.headers.authorization !== expected) return response.writeHead(401).end();
    if (request.url !== `${RECORDING}.mp3` && request.url !== PLIVO_RECORDING) return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'audio/wav', 'content-length': VOICEMAIL.length }).end(VOICEMAIL);
  });
  await new Promise((listening) => recordings.listen(0, '127.0.0.1', listening));
  const recordingsUrl = `http://127.0.0.1:${recordings.address().port}`;
  saidno = await startSaidno([
    `api_base_url = "${recordingsUrl}"`,
    '[plivo]', `auth_token = "${PLIVO_TOKEN}"`, `auth_id = "${PLIVO_AUTH_ID}"`, `media_base_url = "${recordingsUrl}"`,
  ]);
  ({ dir, base } = saidno);
  context = await launch(join(dir, 'profile'));
});

after(async () => {
  await context?.close();
  await saidno?.remove();
  recordings?.close();
});

const call = (callSid, from) => saidno.call(callSid, from);
const post = (path, params, status) => saidno.post(path, params, status);
const signIn = (page) => saidno.signIn(page);

// One of Plivo's callbacks, signed as Plivo signs them (V3: HMAC-SHA256 over the address, the
// sorted parameters and a nonce used once).
let plivoNonce = 0;
async function postPlivo(path, params) {
  const url = `${base}${path}`;
  const nonce = `e2e${Date.now()}${plivoNonce++}`;
  const signed = `${url}?${Object.keys(params).sort().map((k) => k + params[k]).join('')}.${nonce}`;
  const signature = createHmac('sha256', PLIVO_TOKEN).update(signed).digest('base64');
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-plivo-signature-v3': signature,
      'x-plivo-signature-v3-nonce': nonce,
    },
    body: new URLSearchParams(params).toString(),
  });
  assert.equal(response.status, 200);
}

test('sign in, decline a forwarded call with a company, and see its next call refused on the company page', { skip }, async () => {
  assert.match(await call('CAe2e1', PUSHY), /<Dial/);
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await shot(page, '01-sign-in');
  await signIn(page);
  await shot(page, '02-dashboard');

  await page.goto(`${base}/calls`);
  const row = page.locator('tr.call', { hasText: PUSHY_DIALLED });
  await assert.doesNotReject(row.waitFor());
  assert.equal(await row.locator('td.forwarded').textContent(), 'forwarded');
  await row.locator('summary').click();
  await row.locator('input[name=company]').fill('Everest Windows');
  await row.locator('input[name=note]').fill('kitchen upsell');
  await shot(page, '03-calls-decline-form');
  // Taken in place: the banner arrives without the page being left.
  await row.locator('button[type=submit]').click();
  await page.locator('#banners #declined').waitFor();
  assert.match(await page.locator('#declined').textContent(), /Declined \+442079460123 \(Everest Windows\)/);
  await shot(page, '04-calls-declined-with-undo');

  const twiml = await call('CAe2e2', PUSHY);
  assert.match(twiml, /<Say[^>]*>[^<]*Everest Windows/);
  assert.match(twiml, /<Hangup\/>/);

  await page.goto(`${base}/companies`);
  await shot(page, '05-companies');
  await Promise.all([page.waitForURL(/\/companies\/company/), page.click('tr.company a')]);
  assert.equal(await page.locator('#company-name').textContent(), 'Everest Windows');
  assert.equal(await page.locator('#follow-ups').textContent(), '1');
  const attempt = page.locator('tr.attempt');
  assert.equal(await attempt.count(), 1);
  assert.match(await attempt.textContent(), /\+442079460123/);
  assert.match(await attempt.textContent(), /Acme Plumbing/);
  await shot(page, '06-company');
  await page.click('text=Evidence (printable)');
  assert.match(await page.locator('#attempts').textContent(), /CAe2e2/);
  await shot(page, '07-evidence');
  // On a phone the log reads as one card per call, with nothing cut off at the side.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/calls`);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the calls page is ${width}px wide on a phone`);
  await shot(page, '13-calls-on-a-phone');
  await page.close();
});

test('a wrong password is refused; testing a number shows the decision the webhook makes', { skip }, async () => {
  const page = await (await launch(join(dir, 'profile-2'))).newPage();
  await page.goto(`${base}/login`);
  await page.fill('input[name=password]', 'not it');
  await page.click('button[type=submit]');
  assert.match(await page.locator('#error').textContent(), /not the password/);
  await shot(page, '08-wrong-password');
  await signIn(page);
  await page.goto(`${base}/check`);
  await page.fill('input[name=number]', '020 7946 0123');
  await Promise.all([page.waitForURL(/number=/), page.click('main button[type=submit]')]);
  assert.equal(await page.locator('#decision').textContent(), 'decline');
  assert.match(await page.locator('#reason').textContent(), /Everest Windows/);
  await shot(page, '09-check');
  await page.context().close();
});

test('allow a contact, then import declines: a bad file is refused with its lines, a good one taken', { skip }, async () => {
  const page = await context.newPage();
  await page.goto(`${base}/allows`);
  await page.fill('form input[name=number]', '020 7946 0555');
  await page.fill('form input[name=name]', 'Mum');
  await Promise.all([page.waitForURL(/\/allows\?allowed=/), page.click('#add-allow button[type=submit]')]);
  assert.match(await page.locator('tr.allow').textContent(), /\+442079460555.*Mum/s);
  await shot(page, '10-allows');

  const header = 'number,company,note,declined_at,declined_by,channel,mode\n';
  const bad = header + '+442079460200,Dial-a-Kitchen,,2026-11-03T10:00:00Z,Sam,web,\nbanana,X,,2026-11-03T10:00:00Z,,web,\n';
  await page.goto(`${base}/transfer`);
  await page.setInputFiles('input[type=file]', { name: 'declines.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await page.click('form[action="/transfer/import"] button');
  await page.waitForSelector('#bad-rows');
  assert.match(await page.locator('#bad-rows').textContent(), /3\s*2\s*number/);
  await shot(page, '11-import-refused');

  await page.goto(`${base}/transfer`);
  const good = header + '+442079460200,Dial-a-Kitchen,,2026-11-03T10:00:00Z,Sam,web,\n';
  await page.setInputFiles('input[type=file]', { name: 'declines.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
  await page.click('form[action="/transfer/import"] button');
  await page.waitForSelector('#imported');
  assert.match(await page.locator('#imported').textContent(), /Imported 1/);
  await shot(page, '12-import-done');
  await page.goto(`${base}/companies`);
  assert.match(await page.locator('#companies').textContent(), /Dial-a-Kitchen/);
  await page.close();
});

test('on a phone the log is a list of cards with five on the first screen, the filters fold, and every value has its label', { skip }, async () => {
  for (let i = 0; i < 8; i++) await call(`CAphone${i}`, `+44207946055${i}`);
  const page = await context.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/calls`);
  assert.equal(await page.locator('details#filters').getAttribute('open'), null, 'no filter is set, so they fold');
  assert.equal(await page.locator('form.filters').isVisible(), false);
  const onFirstScreen = await page.locator('tr.call').evaluateAll((rows) =>
    rows.filter((row) => row.getBoundingClientRect().bottom <= window.innerHeight).length);
  assert.ok(onFirstScreen >= 5, `${onFirstScreen} calls on the first screen of a phone`);
  await shot(page, '14-calls-cards-on-a-phone');
  await page.click('details#filters summary');
  assert.equal(await page.locator('form.filters').isVisible(), true);

  await page.goto(`${base}/companies`);
  const unlabelled = await page.locator('#companies td').evaluateAll((cells) => cells
    .filter((cell) => cell.textContent.trim() !== '')
    .filter((cell) => !/^".+: "$/.test(getComputedStyle(cell, '::before').content))
    .map((cell) => cell.textContent.trim()));
  assert.deepEqual(unlabelled, [], 'every value on a phone carries its label');
  await shot(page, '15-companies-on-a-phone');

  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${base}/calls`);
  assert.equal(await page.locator('form.filters').isVisible(), true, 'on a wide screen the filters are always there');
  await page.close();
});

// Managing afterwards, at a phone's size and a desktop's: every page fits the screen, and every
// change ends on a banner with an Undo that puts back what was there.
for (const [width, height, tag] of [[390, 844, 'phone'], [1280, 800, 'desktop']]) {
  test(`at ${width}x${height}: edit, extend and remove a decline, allow for a window, pause from settings, read the dashboard`, { skip }, async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width, height });
    const fits = async (what) => {
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= width, `${what} is ${wide}px wide at ${width}px`);
    };
    const company = `${base}/companies/company%3Aeverest%20windows`;

    await page.goto(company);
    const entry = page.locator('li.decline-entry', { hasText: PUSHY });
    await entry.locator('details.edit summary').click();
    await entry.locator('input[name=note]').fill(`edited on a ${tag}`);
    await entry.locator('select[name=mode]').selectOption('reject');
    await fits('the company page with its edit form');
    await shot(page, `16-${tag}-company-edit`);
    await Promise.all([page.waitForURL(/updated=1/), entry.locator('button[type=submit]').click()]);
    assert.match(await page.locator('#declined').textContent(), /Updated the decline of \+442079460123/);
    assert.match(await call(`CAedit-${tag}`, PUSHY), /<Reject/);
    await shot(page, `17-${tag}-company-edited`);
    await Promise.all([page.waitForURL(/undone=/), page.click('#declined button:has-text("Undo")')]);
    assert.match(await page.locator('#undone').textContent(), /back as it was/);
    assert.match(await call(`CAundo-${tag}`, PUSHY), /<Say/);

    const extra = tag === 'phone' ? '020 7946 0124' : '020 7946 0125';
    await page.click('#add-number summary');
    await page.fill('#add-number input[name=target]', extra);
    await Promise.all([page.waitForURL(/declined=/), page.click('#add-number button[type=submit]')]);
    assert.match(await page.locator('#declined').textContent(), /Everest Windows/);
    await fits('the company page with a banner');

    const added = page.locator('li.decline-entry').last();
    await Promise.all([page.waitForURL(/\/declines\/remove/), added.locator('a.remove').click()]);
    await fits('the removal confirmation');
    await shot(page, `18-${tag}-remove-confirm`);
    await Promise.all([page.waitForURL(/removed=/), page.click('#confirm-removal button')]);
    assert.match(await page.locator('#removed').textContent(), /Their next call: forwarded/);
    await shot(page, `19-${tag}-removed-with-undo`);
    await Promise.all([page.waitForURL(/undone=/), page.click('#removed button:has-text("Undo")')]);
    assert.match(await page.locator('#undone').textContent(), /back as it was/);

    await page.goto(`${base}/allows`);
    const caller = tag === 'phone' ? '020 7946 0601' : '020 7946 0602';
    await page.fill('#add-allow input[name=number]', caller);
    const who = `Kitchen callback (${tag})`;
    await page.fill('#add-allow input[name=name]', who);
    await page.fill('#add-allow input[name=from]', 'tomorrow 14:00');
    await page.fill('#add-allow input[name=until]', 'tomorrow 16:00');
    await page.check('#add-allow input[name=once]');
    await Promise.all([page.waitForURL(/allowed=/), page.click('#add-allow button[type=submit]')]);
    assert.match(await page.locator('#allowed').textContent(), /Their next call: /);
    assert.match(await page.locator('tr.allow', { hasText: who }).textContent(), /14:00 to .*16:00, once/s);
    await fits('the allows page');
    await shot(page, `20-${tag}-allow-window`);
    await Promise.all([page.waitForURL(/unallowed=/), page.locator('tr.allow', { hasText: who }).locator('button').click()]);
    await Promise.all([page.waitForURL(/undone_allow=/), page.click('#unallowed button:has-text("Undo")')]);
    assert.match(await page.locator('#undone').textContent(), /back as it was \(Kitchen callback/);

    await page.goto(`${base}/settings`);
    await Promise.all([page.waitForURL(/saved=pause/), page.click('#pause-switch button')]);
    assert.match(await page.locator('#pause-state').textContent(), /Last switched on the web page/);
    assert.match(await call(`CApaused-${tag}`, PUSHY), /<Dial/);
    await fits('the settings page');
    await shot(page, `21-${tag}-settings-paused`);
    await Promise.all([page.waitForURL(/saved=pause/), page.click('#pause-switch button')]);
    assert.match(await page.locator('#pause-state').textContent(), /Blocking is on/);

    await page.goto(`${base}/`);
    assert.equal(await page.locator('#chart a.bar').count(), 30);
    assert.equal(await page.locator('#after-no tr.week').count(), 8);
    await fits('the dashboard');
    await shot(page, `22-${tag}-dashboard`);
    await Promise.all([page.waitForURL(/decision=decline/), page.click('#today a.refused')]);
    assert.ok(await page.locator('tr.call').count() > 0, 'the card leads to the calls it counts');
    await page.close();
  });
}

// Live: a call made while the Calls page and the Dashboard are open appears on them without a reload.
for (const [width, height, tag] of [[390, 844, 'phone'], [1280, 800, 'desktop']]) {
  test(`at ${width}x${height}: a call made while the pages are open appears without reloading`, { skip }, async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width, height });
    await page.goto(`${base}/`);
    const today = Number(await page.locator('#today a.all b').textContent());
    // The calls forwarded today, as the title of the chart's last bar counts them.
    const barBefore = await page.evaluate(() => Number(/: (\d+) forwarded/.exec(
      [...document.querySelectorAll('#chart a.bar title')].pop().textContent)[1]));
    const heightBefore = Number(await page.locator('#chart a.bar:last-of-type rect.bar-forwarded').getAttribute('height'));
    const dashboard = await context.newPage();
    await dashboard.setViewportSize({ width, height });
    // The stream is open (and saidno is sending it calls) once its answer's headers arrive.
    const cardsOpen = dashboard.waitForResponse((response) => response.url().endsWith('/live/dashboard'));
    await dashboard.goto(`${base}/`);
    await cardsOpen;
    const callsOpen = page.waitForResponse((response) => response.url().includes('/calls/live'));
    await page.goto(`${base}/calls`);
    await callsOpen;
    // Set on this document only: a reload would lose it.
    await page.evaluate(() => { window.stillTheSamePage = true; });
    await dashboard.evaluate(() => { window.stillTheSamePage = true; });
    const sid = `CAlive-${tag}`;
    const number = tag === 'phone' ? '+442079460701' : '+442079460702';
    const dialled = tag === 'phone' ? '020 7946 0701' : '020 7946 0702';
    assert.match(await call(sid, number), /<Dial/);
    const row = page.locator(`tr.call[data-sid="${sid}"]`);
    await row.waitFor({ timeout: 30000 });
    assert.equal(await page.locator('tr.call').first().getAttribute('data-sid'), sid, 'the new call is at the top');
    assert.equal(await row.locator('span.number').textContent(), dialled);
    assert.equal(await row.locator('td.decision').textContent(), 'forwarded');
    assert.equal(await page.evaluate(() => window.stillTheSamePage), true, 'the page was not reloaded');
    await shot(page, `23-${tag}-calls-live`);
    await dashboard.waitForFunction((before) => Number(document.querySelector('#today a.all b').textContent) > before,
      today, { timeout: 30000 });
    assert.equal(await dashboard.evaluate(() => window.stillTheSamePage), true, 'the dashboard was not reloaded');
    await shot(dashboard, `24-${tag}-dashboard-live`);
    // The chart follows: today's bar counts the call, and stands taller.
    await dashboard.waitForFunction((before) => Number(/: (\d+) forwarded/.exec(
      [...document.querySelectorAll('#chart a.bar title')].pop().textContent)[1]) > before, barBefore, { timeout: 30000 });
    const heightAfter = Number(await dashboard.locator('#chart a.bar:last-of-type rect.bar-forwarded').getAttribute('height'));
    assert.ok(heightAfter > heightBefore || heightBefore === 120, `today's bar grew from ${heightBefore} to ${heightAfter}`);
    assert.equal(await dashboard.evaluate(() => window.stillTheSamePage), true, 'the dashboard was not reloaded');
    await shot(dashboard, `31-${tag}-dashboard-live-chart`);
    // The forward is answered: the row on screen says so, in place, with how long it lasted.
    assert.equal(await row.locator('td.outcome').textContent(), '');
    await post('/twilio/dial-status', { CallSid: sid, DialCallStatus: 'completed', DialCallDuration: '65' });
    await page.waitForFunction((id) => document.querySelector(`tr.call[data-sid="${id}"] td.outcome`)?.textContent
      === 'answered, 1 min 05 s', sid, { timeout: 30000 });
    assert.equal(await page.locator(`tr.call[data-sid="${sid}"]`).count(), 1, 'replaced, not added');
    assert.equal(await page.locator('tr.call').first().getAttribute('data-sid'), sid, 'still where it was');
    assert.equal(await page.evaluate(() => window.stillTheSamePage), true, 'the page was not reloaded');
    await shot(page, `30-${tag}-calls-live-outcome`);
    // The live row is a row like the others: its Decline form works.
    await row.locator('summary').click();
    await row.locator('input[name=company]').fill('Live Kitchens');
    await row.locator('button[type=submit]').click();
    await page.locator('#banners #declined').waitFor();
    assert.match(await page.locator('#declined').textContent(), /Live Kitchens/);
    await dashboard.close();
    await page.close();
  });
}

// A voicemail plays on its call's row, through saidno, which fetches it with the account's
// credentials: left through Twilio, or through Plivo, whose recordings are on its media host.
const voicemails = [
  ['twilio', '25', async (id) => {
    const sid = `CAvoicemail-${id}`;
    await call(sid, '+442079460801');
    await post('/twilio/dial-status', { CallSid: sid, DialCallStatus: 'no-answer', DialCallDuration: '0' });
    await post('/twilio/voicemail', { CallSid: sid, RecordingUrl: `http://127.0.0.1:${recordings.address().port}${RECORDING}`, RecordingDuration: '1' });
    return sid;
  }],
  ['plivo', '39', async (id) => {
    const uuid = `plivovoicemail${id}`;
    const params = { CallUUID: uuid, From: '442079460802', To: '442079460000', CallStatus: 'ringing', Direction: 'inbound' };
    await postPlivo('/plivo/voice', params);
    await postPlivo('/plivo/dial-status', { ...params, DialStatus: 'timeout' });
    const left = { ...params, RecordUrl: `http://127.0.0.1:${recordings.address().port}${PLIVO_RECORDING}`, RecordingDuration: '1' };
    await postPlivo('/plivo/voicemail', left);
    return uuid;
  }],
];
for (const [provider, number, leave] of voicemails) {
  for (const [width, height, tag] of [[390, 844, 'phone'], [1280, 800, 'desktop']]) {
    const left = provider === 'twilio' ? 'a voicemail left' : `a voicemail left through ${provider}`;
    test(`at ${width}x${height}: ${left} on an unanswered call plays on its row`, { skip }, async () => {
      const sid = await leave(tag);
      const page = await context.newPage();
      await page.setViewportSize({ width, height });
      await page.goto(`${base}/calls`);
      const row = page.locator(`tr.call[data-sid="${sid}"]`);
      assert.match(await row.locator('td.outcome').textContent(), /no answer; voicemail, 1 s/);
      const audio = row.locator('audio');
      // saidno's own route: the provider's address never reaches the page.
      assert.equal(decodeURIComponent(await audio.getAttribute('src')), `/calls/${sid}/voicemail`);
      // The browser loads the message from saidno and reads it as the second it is.
      const seconds = await audio.evaluate((player) => new Promise((loaded, failed) => {
        player.addEventListener('loadedmetadata', () => loaded(player.duration));
        player.addEventListener('error', () => failed(new Error(`the audio did not load: ${player.error?.code}`)));
        player.preload = 'metadata';
        player.load();
      }));
      assert.equal(Math.round(seconds), 1);
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= width, `the calls page is ${wide}px wide at ${width}px`);
      await row.scrollIntoViewIfNeeded();
      await shot(page, provider === 'twilio' ? `${number}-${tag}-voicemail` : `${number}-${tag}-${provider}-voicemail`);
      await page.close();
    });
  }
}

// Acting in place on a long Calls page: Decline, its Undo, and Decline selected with its Undo take
// effect without the page being left, so the owner keeps their place and their open filters.
for (const [width, height, tag] of [[390, 844, 'phone'], [1280, 800, 'desktop']]) {
  test(`at ${width}x${height}: declining from far down the calls, one or several, keeps the place, and Undo works in place`, { skip }, async () => {
    const first = tag === 'phone' ? 400 : 450;
    const numbers = Array.from({ length: 30 }, (_, i) => `+44207946${String(first + i).padStart(4, '0')}`);
    for (const [i, number] of numbers.entries()) assert.match(await call(`CAplace-${tag}-${i}`, number), /<Dial/);
    // The number to decline called twice: both its rows take the decline.
    const target = numbers[8];
    await call(`CAplace-${tag}-again`, target);
    const page = await context.newPage();
    await page.setViewportSize({ width, height });
    await page.goto(`${base}/calls`);
    await page.evaluate(() => { window.stillTheSamePage = true; document.getElementById('filters').open = true; });
    const fits = async (what) => {
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= width, `${what} is ${wide}px wide at ${width}px`);
    };
    const where = () => page.evaluate(() => window.scrollY);
    const kept = async (scrolled, what) => {
      assert.equal(await page.evaluate(() => window.stillTheSamePage), true, `${what}: the page was not left`);
      assert.equal(await where(), scrolled, `${what}: the place in the list is kept`);
      assert.equal(await page.evaluate(() => document.getElementById('filters').open), true, `${what}: the filters stay open`);
    };

    const row = page.locator(`tr.call[data-sid="CAplace-${tag}-8"]`);
    const summary = row.locator('summary.button');
    assert.equal(await summary.textContent(), 'Decline');
    // A real button to the keyboard: focused and opened with Enter.
    await summary.focus();
    await page.keyboard.press('Enter');
    // Refused in place: the reason beneath the form, what was typed still there, the page not left.
    const tooLong = 'W'.repeat(130);
    await row.locator('input[name=company]').fill(tooLong);
    await row.locator('input[name=note]').fill('asked twice');
    await row.locator('form.decline button[type=submit]').click();
    await row.locator('form.decline .error').waitFor();
    assert.match(await row.locator('form.decline .error').textContent(), /^company: .*Nothing was changed\.$/);
    assert.equal(await row.locator('input[name=company]').inputValue(), tooLong);
    assert.equal(await row.locator('input[name=note]').inputValue(), 'asked twice');
    assert.equal(await page.evaluate(() => window.stillTheSamePage), true, 'a refusal does not leave the page');
    await row.locator('input[name=company]').fill('Window Leads');
    const button = row.locator('form.decline button[type=submit]');
    await button.scrollIntoViewIfNeeded();
    await fits('the calls page with a decline form open');
    const field = await row.locator('input[name=company]').boundingBox();
    const note = await row.locator('input[name=note]').boundingBox();
    assert.equal(Math.round(field.x), Math.round(note.x), 'the fields line up');
    const scrolled = await where();
    assert.ok(scrolled > 0, 'the row is far down the list');
    await page.screenshot({ path: join(shots, `27-${tag}-calls-decline-form.png`) });
    await button.click();
    await page.locator('#banners #declined').waitFor();
    assert.match(await page.locator('#declined').textContent(), /Declined \+44\d+ \(Window Leads\)\.\s+Their next call will be refused\./);
    await kept(scrolled, 'after Decline');
    for (const sid of [`CAplace-${tag}-8`, `CAplace-${tag}-again`]) {
      const changed = page.locator(`tr.call[data-sid="${sid}"]`);
      assert.match(await changed.locator('.declined-since').textContent(), /declined since/);
      assert.equal(await changed.locator('summary.button').textContent(), 'Edit');
    }
    await fits('the calls page with a banner in place');
    await page.screenshot({ path: join(shots, `27-${tag}-calls-declined-in-place.png`) });
    await page.click('#banners #declined button:has-text("Undo")');
    await page.locator('#banners #undone').waitFor();
    assert.match(await page.locator('#undone').textContent(), /is no longer declined/);
    await kept(scrolled, 'after Undo');
    assert.equal(await row.locator('summary.button').textContent(), 'Decline');

    const picked = [numbers[12], numbers[14], numbers[16]];
    for (const number of picked) {
      await page.locator(`tr.call:not([data-sid$="again"]) input[type=checkbox][value="${number}"]`).check();
    }
    await page.fill('#bulk-decline input[name=company]', 'Rotating Ltd');
    await fits('the calls page with Decline selected');
    const before = await where();
    await page.screenshot({ path: join(shots, `28-${tag}-bulk-decline-form.png`) });
    await page.click('#bulk-decline button[type=submit]');
    await page.locator('#banners #declined-batch').waitFor();
    assert.match(await page.locator('#declined-batch').textContent(),
      /Declined 3 numbers for Rotating Ltd\.\s+Their next calls will be refused\./);
    await kept(before, 'after Decline selected');
    for (const number of picked) {
      const declined = page.locator('tr.call', { has: page.locator(`input[value="${number}"]`) });
      assert.match(await declined.locator('.declined-since').textContent(), /declined since/);
      assert.equal(await declined.locator('input[type=checkbox]').isChecked(), false, 'the boxes are cleared');
    }
    assert.equal(await page.locator(`tr.call input[type=checkbox][value="${numbers[13]}"]`).isChecked(), false);
    await fits('the calls page after Decline selected');
    await page.screenshot({ path: join(shots, `28-${tag}-bulk-decline.png`) });
    await page.click('#banners #declined-batch button:has-text("Undo")');
    await page.locator('#banners #undone-batch').waitFor();
    assert.match(await page.locator('#undone-batch').textContent(), /the 3 numbers are as they were before/);
    await kept(before, 'after the Undo of Decline selected');
    for (const number of picked) {
      const undone = page.locator('tr.call', { has: page.locator(`input[value="${number}"]`) });
      assert.equal(await undone.locator('.declined-since').count(), 0, `${number} is not declined any more`);
    }
    await page.close();
    assert.match(await call(`CAplace-${tag}-after`, picked[0]), /<Dial/, 'the Undo holds for the next call');
  });
}

// Without JavaScript, Decline selected and its Undo post and reload, as every form always did.
test('without JavaScript, Decline selected declines the ticked numbers and its Undo puts them back', { skip }, async () => {
  const plain = await launch(join(dir, 'profile-plain'), { javaScriptEnabled: false });
  const numbers = ['+442079460481', '+442079460482'];
  for (const [i, number] of numbers.entries()) await call(`CAplain-${i}`, number);
  const page = await plain.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page);
  await page.goto(`${base}/calls`);
  for (const number of numbers) await page.locator(`tr.call input[type=checkbox][value="${number}"]`).check();
  await page.fill('#bulk-decline input[name=company]', 'Plain Leads');
  await Promise.all([page.waitForURL(/declined_batch=/), page.click('#bulk-decline button[type=submit]')]);
  assert.match(await page.locator('#declined-batch').textContent(), /Declined 2 numbers for Plain Leads\.\s+Their next calls will be refused\./);
  assert.match(await call('CAplain-refused', numbers[0]), /<Say/);
  await Promise.all([page.waitForURL(/undone_batch=/), page.click('#declined-batch button:has-text("Undo")')]);
  assert.match(await page.locator('#undone-batch').textContent(), /the 2 numbers are as they were before/);
  assert.match(await call('CAplain-forwarded', numbers[0]), /<Dial/);
  await plain.close();
});

// The settings page at a phone's size and a desktop's: a policy and the hours changed with plain
// forms, used by the very next call, a malformed time refused with what was typed, and each change
// undone back to the configuration file's value.
for (const [width, height, tag] of [[390, 844, 'phone'], [1280, 800, 'desktop']]) {
  test(`at ${width}x${height}: change the withheld policy and the business hours from the settings page, then undo`, { skip }, async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width, height });
    const fits = async (what) => {
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= width, `${what} is ${wide}px wide at ${width}px`);
    };
    await page.goto(`${base}/settings`);
    assert.match(await page.locator('#withheld-origin').textContent(), /from the configuration file \(\[policy\] withheld/);
    await page.selectOption('#withheld-policy', 'refuse');
    await Promise.all([page.waitForURL(/saved=withheld/), page.click('#withheld-form button[value=save]')]);
    assert.match(await page.locator('#saved').textContent(), /A withheld caller's next call: refused/);
    assert.match(await page.locator('#withheld-origin').textContent(), /changed on the web page/);
    assert.match(await call(`CAwithheld-${tag}`, 'anonymous'), /<Hangup/);
    await Promise.all([page.waitForURL(/undone=withheld/), page.click('#saved button:has-text("Undo")')]);
    assert.match(await page.locator('#withheld-origin').textContent(), /from the configuration file/);
    assert.match(await call(`CAwithheld-back-${tag}`, 'anonymous'), /<Dial/);

    await page.selectOption('#hours-enabled', 'yes');
    await page.fill('#hours-monday', '25:00-26:00');
    await page.click('#hours-form button[value=save]');
    await page.waitForSelector('#error');
    assert.match(await page.locator('#error').textContent(), /monday: "25:00-26:00" is not opening hours/);
    assert.equal(await page.inputValue('#hours-monday'), '25:00-26:00', 'what was typed is kept');
    await fits('the settings page with a refused form');
    for (const day of ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']) {
      await page.fill(`#hours-${day}`, '');
    }
    await Promise.all([page.waitForURL(/saved=hours/), page.click('#hours-form button[value=save]')]);
    assert.match(await page.locator('#saved').textContent(), /A call now: closed: outside business hours/);
    assert.match(await page.locator('#hours-now').textContent(), /Mon closed/);
    const closed = await call(`CAclosed-${tag}`, '+442079460777');
    assert.doesNotMatch(closed, /<Dial/);
    await fits('the settings page after a change');
    await shot(page, `26-${tag}-settings-edit`);
    await Promise.all([page.waitForURL(/undone=hours/), page.click('#saved button:has-text("Undo")')]);
    assert.match(await page.locator('#hours-now').textContent(), /off/);
    assert.match(await call(`CAopen-${tag}`, '+442079460777'), /<Dial/);
    await page.close();
  });
}

// A voicemail's words, posted by the provider minutes later, show on its row beside the player;
// a long transcript folds under its opening words and unfolds to the rest.
const WORDS = 'Hello, this is Priya from Northside Dental about the leaking tap in the waiting room. '
  + 'Could someone come on Thursday morning before nine? The side door will be open. Thanks, bye.';
for (const [width, height, tag] of [[390, 844, 'phone'], [1280, 800, 'desktop']]) {
  test(`at ${width}x${height}: a voicemail's transcript reads on its row and unfolds`, { skip }, async () => {
    const sid = `CAtranscript-${tag}`;
    await call(sid, '+442079460802');
    await post('/twilio/dial-status', { CallSid: sid, DialCallStatus: 'no-answer', DialCallDuration: '0' });
    await post('/twilio/voicemail', { CallSid: sid, RecordingUrl: `http://127.0.0.1:${recordings.address().port}${RECORDING}`, RecordingDuration: '1' });
    await post('/twilio/transcript', { CallSid: sid, RecordingSid: 'RE0123456789abcdef0123456789abcdef',
      TranscriptionSid: 'TR1', TranscriptionStatus: 'completed', TranscriptionText: WORDS }, 204);
    const page = await context.newPage();
    await page.setViewportSize({ width, height });
    await page.goto(`${base}/calls`);
    const row = page.locator(`tr.call[data-sid="${sid}"]`);
    assert.match(await row.locator('td.outcome').textContent(), /no answer; voicemail, 1 s/);
    await row.locator('audio').waitFor();
    const transcript = row.locator('details.transcript');
    const full = transcript.locator('p');
    assert.match(await transcript.locator('summary').textContent(), /^Transcript: Hello, this is Priya from Northside Dental.*…$/);
    assert.equal(await full.isVisible(), false, 'folded until asked for');
    await transcript.locator('summary').click();
    await full.waitFor({ state: 'visible' });
    assert.equal(await full.textContent(), WORDS);
    assert.equal(await transcript.locator('.transcript-opening').isVisible(), false, 'the words are not shown twice');
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= width, `the calls page is ${wide}px wide at ${width}px`);
    await row.scrollIntoViewIfNeeded();
    await shot(page, `29-${tag}-voicemail-transcript`);
    await page.close();
  });
}

// Every page through axe-core, at a phone's size and a desktop's. The audit's own context
// lets axe's script in past the pages' policy, which admits scripts from saidno alone.
test('no page has a serious or critical accessibility violation, on a phone or on a desktop', { skip }, async () => {
  const audit = await launch(join(dir, 'profile-axe'), { bypassCSP: true });
  const page = await audit.newPage();
  const company = '/companies/company%3Aeverest%20windows';
  const paths = ['/', '/calls', '/companies', company, `${company}/evidence`, '/allows', '/check?number=020+7946+0777', '/transfer',
    '/settings', '/settings?undone=hours', `/declines/remove?target=${encodeURIComponent(PUSHY)}`, `${company}?declined=${encodeURIComponent(PUSHY)}&updated=1`,
    `/allows?unallowed=${encodeURIComponent('+442079460555')}`,
    `/calls?undone_batch=${encodeURIComponent('+442079460555,+442079460123')}`];
  const problems = [];
  const check = async (label) => {
    await page.addScriptTag({ path: axePath });
    const { checked, found } = await page.evaluate(async () => {
      const results = await window.axe.run(document);
      const found = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      return { checked: results.passes.length, found };
    });
    assert.ok(checked > 0, `axe checked nothing on ${label}`);
    problems.push(...found.map((problem) => `${label}: ${problem}`));
  };
  for (const [width, height] of [[1280, 800], [390, 844]]) {
    await page.setViewportSize({ width, height });
    await page.goto(`${base}/login`);
    await check(`/login at ${width}px`);
  }
  await signIn(page);
  for (const [width, height] of [[1280, 800], [390, 844]]) {
    await page.setViewportSize({ width, height });
    for (const path of paths) {
      await page.goto(`${base}${path}`);
      await check(`${path} at ${width}px`);
    }
  }
  // What the live pages put in place is checked too: a new row, its outcome, the Dashboard anew.
  const opened = page.waitForResponse((response) => response.url().includes('/calls/live'));
  await page.goto(`${base}/calls`);
  await opened;
  await call('CAaxe-live', '+442079460703');
  await post('/twilio/dial-status', { CallSid: 'CAaxe-live', DialCallStatus: 'completed', DialCallDuration: '5' });
  await page.waitForFunction(() => document.querySelector('tr.call[data-sid="CAaxe-live"] td.outcome')?.textContent
    === 'answered, 5 s', undefined, { timeout: 30000 });
  await check('/calls after a live call and outcome');
  const counting = page.waitForResponse((response) => response.url().endsWith('/live/dashboard'));
  await page.goto(`${base}/`);
  await counting;
  const before = Number(await page.locator('#today a.all b').textContent());
  await call('CAaxe-live-2', '+442079460704');
  await page.waitForFunction((count) => Number(document.querySelector('#today a.all b').textContent) > count, before,
    { timeout: 30000 });
  await check('/ after a live call');
  await audit.close();
  assert.deepEqual(problems, []);
});
