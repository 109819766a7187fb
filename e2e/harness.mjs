// What every browser flow needs: the real saidno binary on its own data folder, calls posted to it
// signed as Twilio signs them, and a headless Chromium to read its pages.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
export const binary = join(repo, 'target', 'debug', 'saidno');
export const shots = join(repo, 'target', 'screenshots');
export const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
export const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const AUTH_TOKEN = 'e2e-auth-token';
export const PASSWORD = 'correct horse battery';
export const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
// A phone's screen and a desktop's: every flow that reads a page reads it at both.
export const SCREENS = [[390, 844, 'phone'], [1280, 800, 'desktop']];

const haveBrowser = existsSync(browserPath);
if (!haveBrowser && process.env.CI === 'true') {
  throw new Error(`${browserPath} is missing: install chromium and chromium-driver (see .ci/run)`);
}
export const skip = haveBrowser ? false : `no browser at ${browserPath}`;

const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

export async function waitFor(file) {
  for (let i = 0; i < 600 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(file), `${file} did not appear`);
}

export async function shot(page, name) {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

// A browser profile of its own: its cookies are one signed-in owner.
export function launch(profile, options = {}) {
  return chromium.launchPersistentContext(profile, {
    executablePath: browserPath, headless: true, args: BROWSER_ARGS, viewport: { width: 1100, height: 800 }, ...options,
  });
}

// saidno serving a fresh data folder, with `lines` added to its configuration file. Its password is
// PASSWORD and Twilio signs with AUTH_TOKEN; `restart()` stops it and serves the same folder again.
export async function startSaidno(lines = []) {
  assert.ok(existsSync(binary), `${binary} is missing: run cargo build first`);
  const dir = mkdtempSync(join(tmpdir(), 'saidno-e2e-'));
  const config = join(dir, 'saidno.toml');
  const data = join(dir, 'data');
  writeFileSync(config, [
    'listen = "127.0.0.1:0"',
    `data_dir = "${data}"`,
    'business_name = "Acme Plumbing"',
    'timezone = "UTC"',
    'declined_by = "Sam"',
    '[forward]', 'to = ["+442079460999"]',
    '[twilio]', `auth_token = "${AUTH_TOKEN}"`, `account_sid = "${ACCOUNT_SID}"`,
    ...lines, '',
  ].join('\n'));
  const setPassword = spawnSync(binary, ['--config', config, 'admin', 'set-password'], { input: `${PASSWORD}\n` });
  assert.equal(setPassword.status, 0, setPassword.stderr.toString());
  const saidno = { dir, base: '', process: null };
  const serve = async () => {
    const ready = join(data, 'server.json');
    if (existsSync(ready)) unlinkSync(ready);
    saidno.process = spawn(binary, ['--config', config, 'serve'], { stdio: 'ignore' });
    await waitFor(ready);
    saidno.base = JSON.parse(readFileSync(ready, 'utf8')).url;
  };
  saidno.stop = async () => {
    if (!saidno.process) return;
    const exited = new Promise((r) => saidno.process.once('exit', r));
    saidno.process.kill('SIGTERM');
    await exited;
    saidno.process = null;
  };
  saidno.restart = async () => {
    await saidno.stop();
    await serve();
  };
  saidno.remove = async () => {
    await saidno.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  // Any of Twilio's callbacks, signed as Twilio signs them (HMAC-SHA1 over URL + sorted
  // parameters), answered with `status`.
  saidno.post = async (path, params, status = 200) => {
    const url = `${saidno.base}${path}`;
    const signed = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
    const signature = createHmac('sha1', AUTH_TOKEN).update(signed).digest('base64');
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body: new URLSearchParams(params).toString(),
    });
    assert.equal(response.status, status);
    return response.text();
  };
  // An incoming call, with anything else Twilio says of it (`CallerName`, ...).
  saidno.call = (callSid, from, extra = {}) =>
    saidno.post('/twilio/voice', { AccountSid: 'AC0123', CallSid: callSid, From: from, To: '+442079460000', CallStatus: 'ringing', ...extra });
  saidno.signIn = async (page) => {
    await page.goto(`${saidno.base}/calls`);
    assert.match(page.url(), /\/login$/);
    await page.fill('input[name=password]', PASSWORD);
    await Promise.all([page.waitForURL(`${saidno.base}/`), page.click('button[type=submit]')]);
  };
  await serve();
  return saidno;
}

// Nothing on the page reaches past the screen's edge.
export async function assertFits(page, width, what) {
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= width, `${what} is ${wide}px wide at ${width}px`);
}
