// The web console in a real browser (tests/integration/console.sh starts
// pxed and prepares the lab; this drives Debian's chromium against it).
// One browser for every page; each check prints "ok - ..." or
// "not ok - ..." (the shell script counts them against its plan).
//
// Env: PXED_URL, PXED_TOKEN (the administrator's token), PXED_UI_PATH,
// SHOTS (directory for screenshots), FAILED_MAC (a machine whose task
// failed, with its DHCP and TFTP events), FAILED_MESSAGE (what its agent
// said), IMAGE (an image to deploy), PROFILE (the browser's user-data-dir).

import { mkdirSync } from 'node:fs';
import { launch, curl, taskToken, check, ok, notOk, summary, until, URL_BASE, TOKEN, UI_PATH } from './lib.mjs';

const SHOTS = process.env.SHOTS || 'build/console-shots';
const FAILED_MAC = process.env.FAILED_MAC;
const FAILED_MESSAGE = process.env.FAILED_MESSAGE;
const IMAGE = process.env.IMAGE || 'golden';
const READ_TOKEN = process.env.READ_TOKEN;
const NEW_MAC = '52:54:00:c0:00:10';
const NEW_NAME = 'web1';
const PAGES = [['dashboard', '#/dashboard'], ['hosts', '#/hosts'], ['host', '#/hosts/' + NEW_MAC],
	['timeline', '#/timeline/' + FAILED_MAC], ['images', '#/images'], ['tasks', '#/tasks'], ['settings', '#/settings']];

mkdirSync(SHOTS, { recursive: true });
const ctx = await launch(process.env.PROFILE);
const page = ctx.pages()[0] || await ctx.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push('page error: ' + e.message));
// a 404 of an API endpoint this pxed does not have yet is expected (the
// console says so on the page); a 404 of one of the console's files is not
page.on('console', (m) => {
	if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push('console: ' + m.text());
});
page.on('response', (r) => {
	if (r.status() >= 400 && !new URL(r.url()).pathname.startsWith('/api/')) errors.push(`${r.status()} ${r.url()}`);
});
const external = [];
page.on('request', (r) => { if (!r.url().startsWith(URL_BASE + '/')) external.push(r.url()); });

const t0 = Date.now();
const go = async (hash) => {
	await page.evaluate((h) => { location.hash = h; }, hash);
	await page.waitForFunction(() => document.querySelector('main h1') !== null);
};
const text = (sel) => page.locator(sel).first().innerText({ timeout: 10000 });

// --- login -------------------------------------------------------------------
await page.goto(URL_BASE + UI_PATH, { waitUntil: 'load' });
await check('the console loads from pxed and asks for a token', async () =>
	(await page.locator('form#login input#token').count()) === 1);
await page.screenshot({ path: `${SHOTS}/login-1280.png` });
const signIn = async (token) => {
	await page.fill('#token', token);
	await page.press('#token', 'Enter');
};
await signIn('0123456789abcdef0123456789abcdef');
await check('a token pxed does not know is refused at login', async () =>
	!!(await until(async () => (await text('#login-msg')) === 'This token was refused.', 5000)) || await text('#login-msg'));
await signIn(READ_TOKEN);
await check('a read token signs in read-only: no register form, no task form', async () => {
	await page.waitForSelector('#tile-hosts', { timeout: 10000 });
	const who = await text('.who');
	await go('#/hosts');
	await page.waitForSelector('#host-list tr', { timeout: 10000 });
	const reg = await page.locator('#register').count();
	await go('#/hosts/' + FAILED_MAC);
	await page.waitForSelector('#active-task', { timeout: 10000 });
	const assign = await page.locator('#assign').count();
	return who === 'read-only' && reg === 0 && assign === 0 || `${who}, register ${reg}, assign ${assign}`;
});
await page.click('#logout');
await check('sign out forgets the token', async () =>
	(await page.locator('form#login').count()) === 1 && await page.evaluate(() => sessionStorage.length === 0));
await page.fill('#token', TOKEN);
await page.press('#token', 'Enter');
await check('login with the administrator token signs in as admin, back on the page it was on', async () => {
	await page.waitForSelector('#active-task', { timeout: 10000 });
	return (await text('.who')) === 'admin' || await text('.who');
});
await check('the token is kept in the session only (sessionStorage, not localStorage or a cookie)', async () =>
	page.evaluate((t) => sessionStorage.getItem('pxed-token') === t && localStorage.length === 0 &&
		document.cookie === '', TOKEN));

await check('live updates come over the event stream (Server-Sent Events read with fetch)', async () =>
	!!(await until(async () => (await page.getAttribute('#live', 'data-mode')) === 'live', 5000)) ||
	await page.getAttribute('#live', 'data-mode'));

// --- register a host -----------------------------------------------------------
await go('#/hosts');
await page.click('#register-box summary');
await page.fill('#reg-mac', NEW_MAC);
await page.fill('#reg-name', NEW_NAME);
await page.click('#register button[type=submit]');
await check('a host registered in the console is in the API with its name', async () => {
	await page.waitForURL(/#\/hosts\/52/, { timeout: 10000 });
	const r = curl('GET', '/api/v1/hosts/' + NEW_MAC, TOKEN);
	return r.code === 200 && r.body.name === NEW_NAME || `${r.code} ${r.text}`;
});
await check('... and its page shows it', async () => {
	await page.waitForSelector('#assign', { timeout: 10000 });
	return (await text('main h1')) === NEW_NAME;
});

// --- assign a deploy ---------------------------------------------------------
await page.selectOption('#task-type', 'deploy');
await page.selectOption('#task-image', IMAGE);
await page.click('#assign-submit');
let taskId = 0;
await check(`a deploy of ${IMAGE} assigned in the console is the host's active task`, async () => {
	const r = await until(() => {
		const x = curl('GET', '/api/v1/hosts/' + NEW_MAC, TOKEN);
		return x.body && x.body.task ? x : null;
	});
	if (!r) return 'no task';
	taskId = r.body.task.id;
	return r.body.task.type === 'deploy' && r.body.task.image === IMAGE && r.body.task.state === 'pending' ||
		JSON.stringify(r.body.task);
});
const bar = page.locator(`#active-task tr[data-task="${taskId}"] [role=progressbar]`);
await check('the host page shows the task with a progress bar', async () => {
	await bar.waitFor({ timeout: 10000 });
	return true;
});

// --- a test agent reports progress; the bar moves ----------------------------
const tt = taskToken(NEW_MAC);
const fetched = curl('GET', '/api/v1/agent/task', tt);
if (fetched.code !== 200) console.log('# setup: the test agent could not fetch its task: ' + fetched.text);
const TOTAL = 64 << 20;
const barAt = async (pct) => until(async () => +(await bar.getAttribute('aria-valuenow')) === pct, 10000);
for (const pct of [25, 60]) {
	const r = curl('POST', '/api/v1/agent/progress', tt, { phase: 'deploy', bytes: Math.round(TOTAL * pct / 100), total: TOTAL,
		rate: 30 << 20 });
	await check(`the agent reports ${pct}% (${r.code}): the progress bar shows ${pct}% without a reload`, async () =>
		(r.code === 204 && await barAt(pct)) || `bar at ${await bar.getAttribute('aria-valuenow')}`);
}
await page.setViewportSize({ width: 1280, height: 800 });
await page.screenshot({ path: `${SHOTS}/host-running-1280.png`, fullPage: true });
const done = curl('POST', '/api/v1/agent/result', tt, { ok: true, message: 'deployed', log: 'all good' });
await check('the agent reports done: the task history shows it done', async () =>
	done.code === 204 && !!(await until(async () =>
		(await page.locator(`#task-history tr[data-task="${taskId}"] .badge[data-state="done"]`).count()) === 1, 10000)));

// --- the timeline of a machine that failed -------------------------------------
await go('#/timeline/' + FAILED_MAC);
await check('the timeline of the failed machine draws its boot from the first DHCP packet', async () => {
	await page.waitForSelector('svg.timeline', { timeout: 10000 });
	const kinds = await page.$$eval('svg.timeline [data-kind]', (els) => els.map((e) => e.dataset.kind));
	return kinds[0] === 'dhcp-discover' && kinds.includes('tftp-done') && kinds.includes('task-start') || kinds.join(',');
});
await check('... with the failed step marked (task-failed)', async () =>
	(await page.locator('svg.timeline g.event.failed[data-kind="task-failed"]').count()) === 1);
await check('... and explained with the agent\'s message', async () => {
	await page.waitForSelector('#failure', { timeout: 10000 });
	const t = await text('#failure');
	return t.includes('task-failed') && t.includes(FAILED_MESSAGE) || t;
});

// --- images, tasks, settings, dashboard ------------------------------------------
await go('#/images');
await check(`the images page lists ${IMAGE} deployed to ${NEW_NAME}'s MAC`, async () => {
	const row = page.locator(`tr[data-image="${IMAGE}"]`);
	await row.waitFor({ timeout: 10000 });
	return (await row.innerText()).includes(NEW_MAC) || await row.innerText();
});
await page.click(`button[aria-label="Verify ${IMAGE}"]`);
await check('verify from the images page: every chunk verified', async () =>
	!!(await until(async () => (await text(`tr[data-image="${IMAGE}"] .verify-result`)) === 'every chunk verified')));
await go('#/tasks');
await check('the tasks page lists the deploy as done', async () => {
	const row = page.locator(`#task-list tr[data-task="${taskId}"] .badge`);
	await row.waitFor({ timeout: 10000 });
	return (await row.innerText()) === 'done';
});
await go('#/dashboard');
await check('the dashboard shows the failed machine among those booting, failed', async () => {
	const row = page.locator(`#booting tr[data-mac="${FAILED_MAC}"] ol.steps li.failed`);
	await row.waitFor({ timeout: 10000 });
	return true;
});

// --- keyboard: every control reachable with Tab, with a visible focus -------------
async function tabAudit(hash) {
	await go(hash);
	await page.waitForTimeout(300);
	const want = await page.$$eval('a[href], button:not([disabled]), input:not([type=hidden]), select, summary, [tabindex="0"]',
		(els) => els.filter((e) => e.checkVisibility({ contentVisibilityAuto: true, visibilityProperty: true }) ||
			e.classList.contains('skip'))
			.map((e, i) => { e.dataset.tabId = String(i); return String(i); }));
	const seen = new Set();
	const invisible = [];
	await page.evaluate(() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); });
	await page.focus('body');
	for (let i = 0; i < want.length + 5; i++) {
		await page.keyboard.press('Tab');
		const f = await page.evaluate(() => {
			const e = document.activeElement;
			if (!e || e === document.body) return null;
			const s = getComputedStyle(e);
			return { id: e.dataset.tabId, outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0, what: e.outerHTML.slice(0, 80) };
		});
		if (!f) continue;
		if (f.id !== undefined) seen.add(f.id);
		if (!f.outline) invisible.push(f.what);
	}
	const missed = want.filter((id) => !seen.has(id));
	const names = await page.$$eval('[data-tab-id]', (els, m) => els.filter((e) => m.includes(e.dataset.tabId))
		.map((e) => e.outerHTML.slice(0, 60)), missed);
	return missed.length === 0 && invisible.length === 0 ||
		`missed ${missed.length} of ${want.length} (${names.slice(0, 4).join(' | ')}); ` +
		`no visible focus on ${invisible.slice(0, 3).join(' | ')}`;
}
for (const [name, hash] of [['dashboard', '#/dashboard'], ['hosts', '#/hosts'], ['host', '#/hosts/' + NEW_MAC],
	['images', '#/images']])
	await check(`keyboard: every control of the ${name} page is reached with Tab and shows its focus`, () => tabAudit(hash));
await check('keyboard: Tab to the Tasks link and Enter opens the tasks page', async () => {
	await go('#/dashboard');
	await page.focus('body');
	for (let i = 0; i < 10; i++) {
		await page.keyboard.press('Tab');
		if (await page.evaluate(() => document.activeElement.dataset.nav === 'tasks')) break;
	}
	await page.keyboard.press('Enter');
	await page.waitForSelector('#task-list', { timeout: 5000 });
	return page.evaluate(() => location.hash === '#/tasks');
});
await check('keyboard: typing in the host search (reached with Tab) filters the list', async () => {
	await go('#/hosts');
	await page.focus('body');
	for (let i = 0; i < 12; i++) {
		await page.keyboard.press('Tab');
		if (await page.evaluate(() => document.activeElement.id === 'host-search')) break;
	}
	await page.keyboard.type(NEW_NAME);
	return !!(await until(async () => {
		const macs = await page.$$eval('#host-list tr[data-mac]', (els) => els.map((e) => e.dataset.mac));
		return macs.length === 1 && macs[0] === NEW_MAC;
	}, 5000));
});

// --- screenshots of every page, 1280x800 and phone width --------------------------
for (const [w, hgt] of [[1280, 800], [390, 844]]) {
	await page.setViewportSize({ width: w, height: hgt });
	for (const [name, hash] of PAGES) {
		const ts = Date.now();
		await go(hash);
		await page.waitForTimeout(400);
		await page.screenshot({ path: `${SHOTS}/${name}-${w}.png`, fullPage: true });
		console.log(`# screenshot ${name}-${w}: ${Date.now() - ts} ms`);
	}
}
await check('at phone width (390 px) no page is wider than the screen', async () => {
	const wide = [];
	for (const [name, hash] of PAGES) {
		await go(hash);
		await page.waitForTimeout(300);
		const sw = await page.evaluate(() => document.documentElement.scrollWidth);
		if (sw > 390) wide.push(`${name} ${sw}px`);
	}
	return wide.length === 0 || wide.join(', ');
});
await check('no request left pxed (no external URL)', async () => external.length === 0 || external.slice(0, 3).join(' '));
await check('no script error in the browser', async () => errors.length === 0 || errors.slice(0, 3).join(' | '));
await ctx.close();
console.log(`# browser part: ${((Date.now() - t0) / 1000).toFixed(1)} s, ${summary().count} checks`);
process.exit(0);
