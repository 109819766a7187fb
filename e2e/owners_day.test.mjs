// The owner's day in a real headless Chromium, at a phone's size and a desktop's: nothing the owner
// did is lost, every message is true, a log row reads at a glance, evidence prints, filters forgive,
// and a session outlives a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SCREENS, assertFits, launch, shot, shots, skip, startSaidno } from './harness.mjs';

let saidno;
let context;

before(async () => {
  if (skip) return;
  // The announcement is on, so that a call can be declined by pressing 9 while it rings.
  saidno = await startSaidno(['[whisper]', 'enabled = true']);
  context = await launch(join(saidno.dir, 'profile'));
  const page = await context.newPage();
  await saidno.signIn(page);
  await page.close();
});

after(async () => {
  await context?.close();
  await saidno?.remove();
});

// Each screen gets numbers of its own, so that the two runs never meet in the log.
const numbers = (tag) => {
  const digit = tag === 'phone' ? '3' : '4';
  const number = (n) => ({ e164: `+4420794610${digit}${n}`, dialled: `020 7946 10${digit}${n}` });
  return {
    pushy: number(1), mum: number(2), named: number(3), busy: number(4), unanswered: number(5), repeat: number(6),
    pressed: number(7), fresh: number(8),
  };
};

async function open(page, path, width, height) {
  await page.setViewportSize({ width, height });
  await page.goto(`${saidno.base}${path}`);
}

// The answer to a form: the banner it leads to, whether the page is loaded again or changed in place.
async function banner(page, id, pattern) {
  const shown = page.locator(`#${id}`);
  await shown.waitFor({ timeout: 30000 });
  // A banner from the action before may still be there until this one's answer replaces it.
  await page.waitForFunction(([id, source, flags]) => new RegExp(source, flags).test(document.getElementById(id)?.textContent ?? ''),
    [id, pattern.source, pattern.flags], { timeout: 30000 }).catch(() => {});
  assert.match(await shown.textContent(), pattern);
}

for (const [width, height, tag] of SCREENS) {
  test(`at ${width}x${height}: re-declining and Undo lose nothing, and every banner says what the next call gets`, { skip }, async () => {
    const { pushy, mum } = numbers(tag);
    const company = `Rotating ${tag}`;
    assert.match(await saidno.call(`CAfirst-${tag}`, pushy.e164), /<Dial/);
    assert.match(await saidno.call(`CAsecond-${tag}`, pushy.e164), /<Dial/);
    const page = await context.newPage();
    await open(page, '/calls', width, height);
    const first = page.locator(`tr.call[data-sid="CAfirst-${tag}"]`);
    await first.locator('summary').click();
    await first.locator('input[name=company]').fill(company);
    await first.locator('input[name=note]').fill('solar survey');
    await first.locator('button[type=submit]').click();
    await banner(page, 'declined', new RegExp(`Declined \\${pushy.e164} \\(${company}\\)\\.\\s*Their next call will be refused`));

    // Every row of that number now says since when it is declined, and offers Edit, not Decline.
    const second = page.locator(`tr.call[data-sid="CAsecond-${tag}"]`);
    for (const row of [first, second]) {
      assert.match(await row.locator('.declined-since').textContent(), /^declined since \d{1,2} \w{3} \d{4}$/);
      assert.equal(await row.locator('summary').textContent(), 'Edit');
    }
    await assertFits(page, width, 'the calls page with its banner');
    await shot(page, `32-${tag}-declined-since-edit`);

    // Editing from an old row, then Undo, puts the first decline back word for word.
    await second.locator('summary').click();
    assert.equal(await second.locator('input[name=note]').inputValue(), 'solar survey', 'the edit starts from what is on record');
    await second.locator('input[name=note]').fill('called again');
    await second.locator('button[type=submit]').click();
    await banner(page, 'declined', /^Updated the decline of/);
    await page.locator('#declined button:has-text("Undo")').click();
    await banner(page, 'undone', /the decline of .* is back as it was/);
    await page.goto(`${saidno.base}/companies`);
    await page.locator('tr.company a', { hasText: company }).click();
    await page.locator('#company-name').waitFor();
    const entry = page.locator('li.decline-entry', { hasText: pushy.e164 });
    await entry.locator('details.edit summary').click();
    assert.equal(await entry.locator('input[name=note]').inputValue(), 'solar survey');
    const refusal = await saidno.call(`CAthird-${tag}`, pushy.e164);
    assert.match(refusal, new RegExp(`<Say[^>]*>[^<]*${company}`));
    await page.reload();
    // The count on a company's page is the calls its timeline lists.
    assert.equal(await page.locator('#follow-ups').textContent(), String(await page.locator('tr.attempt').count()));

    // "This was a customer" from the refused row lets the number through, and its Undo puts the
    // refusal back.
    await open(page, '/calls', width, height);
    const refused = page.locator(`tr.call[data-sid="CAthird-${tag}"]`);
    await refused.locator('button', { hasText: 'This was a customer' }).click();
    await banner(page, 'allowed', new RegExp(`Allowed \\${pushy.e164}: their calls ring through.*Their next call: forwarded`, 's'));
    await shot(page, `40-${tag}-this-was-a-customer`);
    await page.locator('#allowed button:has-text("Undo")').click();
    await banner(page, 'undone', new RegExp(`Their next call: refused: ${company}`));
    assert.match(await saidno.call(`CAfourth-${tag}`, pushy.e164), new RegExp(`<Say[^>]*>[^<]*${company}`));

    // Declining an allowed number says the allow still wins, and offers to remove it.
    await open(page, '/allows', width, height);
    await page.fill('#add-allow input[name=number]', mum.dialled);
    await page.fill('#add-allow input[name=name]', 'Mum');
    await page.click('#add-allow button[type=submit]');
    await banner(page, 'allowed', /Their next call: forwarded/);
    await open(page, `/check?number=${encodeURIComponent(mum.dialled)}`, width, height);
    await page.fill('#decline input[name=company]', 'Not Mum Ltd');
    await page.click('#decline button[type=submit]');
    await banner(page, 'declined', /Their next call still rings through: .*The allow wins over the decline/s);
    assert.doesNotMatch(await page.locator('#declined').textContent(), /will be refused/);
    await assertFits(page, width, 'the allow-wins banner');
    await shot(page, `33-${tag}-allow-still-wins`);
    await page.locator('#declined button:has-text("Remove the allow")').click();
    await banner(page, 'unallowed', /is no longer allowed\. Their next call: refused: Not Mum Ltd/);
    assert.match(await saidno.call(`CAmum-${tag}`, mum.e164), /<Say[^>]*>[^<]*Not Mum Ltd/);

    // A number that has not called yet is declined from Companies.
    const { fresh } = numbers(tag);
    await open(page, '/companies', width, height);
    await page.click('#decline-new summary');
    await page.fill('#decline-new input[name=number]', fresh.dialled);
    await page.fill('#decline-new input[name=company]', `Cold Caller ${tag}`);
    await assertFits(page, width, 'the companies page with its decline form open');
    await page.click('#decline-new button[type=submit]');
    await banner(page, 'declined', new RegExp(`Declined \\${fresh.e164} \\(Cold Caller ${tag}\\)\\.\\s*Their next call will be refused`));
    assert.match(await saidno.call(`CAfresh-${tag}`, fresh.e164), new RegExp(`<Say[^>]*>[^<]*Cold Caller ${tag}`));
    await page.close();
  });

  test(`at ${width}x${height}: a row reads at a glance, and a number that keeps calling is surfaced`, { skip }, async () => {
    const { named, busy, unanswered, repeat, pressed } = numbers(tag);
    await saidno.call(`CAnamed-${tag}`, named.e164, { CallerName: 'SUNNY SOLAR' });
    await saidno.post('/twilio/dial-status', { CallSid: `CAnamed-${tag}`, DialCallStatus: 'completed', DialCallDuration: '65' });
    await saidno.call(`CAbusy-${tag}`, busy.e164);
    await saidno.post('/twilio/dial-status', { CallSid: `CAbusy-${tag}`, DialCallStatus: 'busy', DialCallDuration: '0' });
    await saidno.call(`CAunanswered-${tag}`, unanswered.e164);
    await saidno.post('/twilio/dial-status', { CallSid: `CAunanswered-${tag}`, DialCallStatus: 'no-answer', DialCallDuration: '0' });
    for (let i = 0; i < 3; i++) await saidno.call(`CArepeat${i}-${tag}`, repeat.e164);

    // Pressed 9 while the call was announced: the row says declined at once, not "forwarded".
    const dial = await saidno.call(`CApressed-${tag}`, pressed.e164);
    const announcement = dial.match(/<Number[^>]* url="([^"]+)"/)[1].replaceAll('&amp;', '&');
    const leg = { AccountSid: 'AC0123', CallSid: `CAleg-${tag}`, CallStatus: 'in-progress', Direction: 'outbound-dial', From: pressed.e164, To: '+442079460999' };
    const gather = await saidno.post(announcement, leg);
    const key = gather.match(/<Gather[^>]* action="([^"]+)"/)[1].replaceAll('&amp;', '&');
    await saidno.post(key, { ...leg, Digits: '9' });

    const page = await context.newPage();
    await open(page, '/calls', width, height);
    const row = (sid) => page.locator(`tr.call[data-sid="${sid}-${tag}"]`);
    assert.equal(await row('CAnamed').locator('.caller-name').textContent(), 'SUNNY SOLAR');
    assert.equal(await row('CAnamed').locator('span.number').textContent(), named.dialled, 'as the owner dials it');
    assert.equal(await row('CAnamed').locator('span.number').getAttribute('title'), named.e164, 'E.164 on hover');
    assert.equal(await row('CAnamed').locator('td.outcome').textContent(), 'answered, 1 min 05 s');
    assert.equal(await row('CAbusy').locator('td.outcome').textContent(), 'busy');
    assert.equal(await row('CAunanswered').locator('td.outcome').textContent(), 'no answer');
    assert.match(await row('CApressed').locator('td.reason').textContent(), /declined by pressing 9/);
    assert.doesNotMatch(await row('CApressed').locator('td.reason').textContent(), /no decline on record/);
    const time = row('CAnamed').locator('td.time time');
    assert.match(await time.textContent(), /^Today \d\d:\d\d$/);
    assert.equal(await time.evaluate((element) => element.getClientRects().length), 1, 'the time does not wrap');
    // "Why" says why, without repeating the number the row already shows.
    assert.doesNotMatch(await row('CAnamed').locator('td.reason').textContent(), new RegExp(`\\${named.e164}`));
    await assertFits(page, width, 'the calls page');
    await shot(page, `34-${tag}-calls-at-a-glance`);

    await open(page, '/', width, height);
    const repeated = page.locator('tr.repeat-caller', { hasText: repeat.dialled });
    assert.match(await repeated.locator('td.summary').textContent(), /^called 3 times in .*, never declined$/);
    await repeated.locator('summary').click();
    await repeated.locator('input[name=company]').fill(`Persistent ${tag}`);
    await assertFits(page, width, 'the dashboard with a decline form open');
    await shot(page, `35-${tag}-repeat-caller-decline`);
    await repeated.locator('button[type=submit]').click();
    await banner(page, 'declined', new RegExp(`Persistent ${tag}\\)\\.\\s*Their next call will be refused`));
    assert.match(await saidno.call(`CArepeat3-${tag}`, repeat.e164), new RegExp(`Persistent ${tag}`));
    await page.close();
  });

  test(`at ${width}x${height}: filters forgive, errors keep what was typed, and evidence prints on A4`, { skip }, async () => {
    const { pushy } = numbers(tag);
    const page = await context.newPage();
    await open(page, `/calls?company=${encodeURIComponent(`TATING ${tag.toUpperCase()}`)}`, width, height);
    const sids = await page.locator('tr.call').evaluateAll((rows) => rows.map((row) => row.dataset.sid));
    // The calls logged with that company: the refusal since the no.
    assert.deepEqual(sids, [`CAfourth-${tag}`, `CAthird-${tag}`], 'part of the name, in any case');
    for (const typed of [pushy.dialled, pushy.e164.slice(-4)]) {
      await open(page, `/calls?number=${encodeURIComponent(typed)}`, width, height);
      assert.equal(await page.locator('tr.call').count(), 4, `the number filter takes ${typed}`);
    }

    await open(page, '/check', width, height);
    await page.fill('main input[name=number]', 'banana');
    await page.click('main button[type=submit]');
    await page.locator('#error').waitFor();
    assert.doesNotMatch(await page.locator('#error').textContent(), /--|error:|Err\(/, 'plain words');
    assert.equal(await page.locator('main input[name=number]').inputValue(), 'banana', 'what was typed is kept');
    await open(page, '/allows', width, height);
    await page.fill('#add-allow input[name=number]', '01632 960123');
    await page.fill('#add-allow input[name=name]', `New office ${tag}`);
    await page.click('#add-allow button[type=submit]');
    await page.locator('#error').waitFor();
    assert.match(await page.locator('#error').textContent(), /accept it anyway/);
    assert.doesNotMatch(await page.content(), /--force/);
    assert.equal(await page.locator('#add-allow input[name=name]').inputValue(), `New office ${tag}`);
    await assertFits(page, width, 'the allows page with its error');
    await shot(page, `38-${tag}-accept-anyway`);
    await page.check('#add-allow input[name=force]');
    await page.click('#add-allow button[type=submit]');
    await banner(page, 'allowed', /\+441632960123/);
    await page.goto(`${saidno.base}/companies/company%3Anobody%20at%20all`);
    assert.match(await page.locator('#error').textContent(), /nobody at all/i);
    assert.ok(await page.locator('#back').isVisible(), 'an error page leads back');

    await open(page, '/companies', width, height);
    await page.locator('tr.company a', { hasText: `Rotating ${tag}` }).click();
    await page.click('text=Evidence (printable)');
    await page.locator('#attempts').waitFor();
    assert.ok(await page.locator('button#print').isVisible(), 'a Print button');
    assert.match(await page.locator('a', { hasText: `Back to Rotating ${tag}` }).getAttribute('href'), /^\/companies\//);
    assert.match(await page.locator('#zone').textContent(), /UTC/);
    assert.match(await page.locator('#declines tr.decline').first().textContent(), /on the web page/);
    assert.match(await page.locator('#declines tr.decline').first().textContent(), new RegExp(`CAfirst-${tag}`), 'the call the no was given on');
    assert.match(await page.locator('#regulators').textContent(), /Telephone Preference Service.*ico\.org\.uk/s);
    const csv = await page.evaluate(async (href) => (await fetch(href)).headers.get('content-disposition'),
      await page.locator('a', { hasText: 'The same as CSV' }).getAttribute('href'));
    assert.match(csv, new RegExp(`saidno-evidence-rotating-${tag}\\.csv`));
    await assertFits(page, width, 'the evidence');
    await shot(page, `36-${tag}-evidence`);

    // Printed on A4 (about 718 CSS pixels inside its margins) nothing is cut off at the side, and
    // a call id wraps inside its column rather than pushing "what they heard" off the page.
    await page.emulateMedia({ media: 'print' });
    await page.setViewportSize({ width: 718, height: 1047 });
    await assertFits(page, 718, 'the evidence printed on A4');
    const overflowing = await page.locator('td').evaluateAll((cells) =>
      cells.filter((cell) => cell.scrollWidth > cell.clientWidth + 1).map((cell) => cell.textContent));
    assert.deepEqual(overflowing, [], 'every cell fits its column on A4');
    assert.equal(await page.locator('p.noprint').isVisible(), false, 'the buttons are not printed');
    const pdf = await page.pdf({ format: 'A4', path: join(shots, `36-${tag}-evidence-a4.pdf`) });
    assert.ok(pdf.length > 1000);
    await page.emulateMedia({ media: 'screen' });
    await page.close();
  });
}

test('the sign-in page names the business, and a signed-in owner stays signed in across a restart', { skip }, async () => {
  for (const [width, height, tag] of SCREENS) {
    const stranger = await launch(join(saidno.dir, `profile-stranger-${tag}`));
    const page = await stranger.newPage();
    await open(page, '/login', width, height);
    assert.equal(await page.locator('#business').textContent(), 'The call blocker for Acme Plumbing');
    assert.match(await page.title(), /Acme Plumbing/);
    await assertFits(page, width, 'the sign-in page');
    await shot(page, `37-${tag}-sign-in`);
    await stranger.close();
  }
  await saidno.restart();
  const page = await context.newPage();
  await page.goto(`${saidno.base}/calls`);
  assert.match(page.url(), /\/calls$/, 'still signed in after the restart');
  assert.ok(await page.locator('tr.call').count() > 0);
  await page.close();
});
