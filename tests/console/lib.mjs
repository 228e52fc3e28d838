// What the console's browser test and its bench share: Debian's chromium
// driven by playwright-core (never a browser of Playwright's own), TAP
// lines, and the API and agent calls made with curl beside the browser.

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export const URL_BASE = process.env.PXED_URL || 'http://192.0.2.1';
export const TOKEN = process.env.PXED_TOKEN || '';
export const UI_PATH = process.env.PXED_UI_PATH || '/ui/';
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
	'--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'];

// The browser: a persistent context on a fresh, empty user-data-dir.
export async function launch(profileDir) {
	const { chromium } = await import(process.env.PLAYWRIGHT_CORE || 'playwright-core');
	const dir = profileDir || mkdtempSync(join(tmpdir(), 'pxed-chromium-'));
	return chromium.launchPersistentContext(dir, {
		executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
		viewport: { width: 1280, height: 800 }, timeout: 60000, bypassCSP: !!process.env.BENCH_CSS,
	});
}

// curl(method, path, token, body): {code, body} from pxed's API.
export function curl(method, path, token, body) {
	const args = ['-sS', '-m', '20', '-X', method, '-o', '-', '-w', '\n%{http_code}'];
	if (token) args.push('-H', 'Authorization: Bearer ' + token);
	if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
	args.push(URL_BASE + path);
	const out = execFileSync('curl', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
	const i = out.lastIndexOf('\n');
	const text = out.slice(0, i);
	let json = null;
	try {
		json = text ? JSON.parse(text) : null;
	} catch (e) {
		json = null;
	}
	return { code: +out.slice(i + 1), body: json, text };
}

// The task token in a host's boot script (what iPXE would be given).
export function taskToken(mac) {
	const r = curl('GET', '/api/v1/boot/' + mac + '.ipxe');
	const m = /pxed\.token=([0-9a-f]+)/.exec(r.text);
	return m ? m[1] : '';
}

let failed = 0;
let count = 0;
export function ok(name) {
	count++;
	console.log('ok - ' + name);
}
export function notOk(name, why) {
	count++;
	failed++;
	console.log('not ok - ' + name);
	if (why) console.log('# ' + String(why).split('\n').slice(0, 6).join('\n# '));
}
// check(name, async fn): ok when fn returns true, not ok when false or throws.
export async function check(name, fn) {
	const t = Date.now();
	try {
		const r = await fn();
		if (Date.now() - t > 2000) console.log(`# (${((Date.now() - t) / 1000).toFixed(1)} s)`);
		if (r === true) ok(name);
		else notOk(name, r === false ? '' : 'got ' + JSON.stringify(r));
	} catch (e) {
		notOk(name, e && e.message);
	}
}
export function summary() {
	return { count, failed };
}

export function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

// Wait (bounded) until fn() is true; returns the last value.
export async function until(fn, ms = 10000, every = 100) {
	const end = Date.now() + ms;
	let v;
	for (;;) {
		try {
			v = await fn();
		} catch (e) {
			v = false;
		}
		if (v || Date.now() > end) return v;
		await sleep(every);
	}
}
