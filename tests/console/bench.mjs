// bench/console-load's browser part: the dashboard's load time with many
// hosts and running tasks, and how responsive it stays while events come.
//
//   node bench.mjs setup HOSTS TASKS     hosts and running wipe tasks, made through the API
//   node bench.mjs gen RATE SECONDS      progress reports of the running tasks at RATE a second
//   node bench.mjs measure LOADS SECONDS RATE   the browser's figures (one JSON line)
//
// Env as tests/console/console.mjs (PXED_URL, PXED_TOKEN, PXED_UI_PATH).

import { spawn } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { launch, URL_BASE, TOKEN, UI_PATH, sleep } from './lib.mjs';

const TOKENS = process.env.TASK_TOKENS || '/tmp/pxed-bench-task-tokens.json';

async function call(method, path, token, body) {
	const res = await fetch(URL_BASE + path, { method, headers: Object.assign(
		{ Authorization: 'Bearer ' + token }, body ? { 'Content-Type': 'application/json' } : {}),
	body: body ? JSON.stringify(body) : undefined });
	const text = await res.text();
	return { code: res.status, text };
}

// n calls of fn(i), conc at a time
async function pool(n, conc, fn) {
	let next = 0;
	await Promise.all(Array.from({ length: conc }, async () => {
		while (next < n) await fn(next++);
	}));
}

function mac(i) {
	const h = (i + 0x1000).toString(16).padStart(6, '0');
	return `52:54:00:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}

async function setup(hosts, tasks) {
	const t0 = Date.now();
	let bad = 0;
	await pool(hosts, 8, async (i) => {
		const r = await call('POST', '/api/v1/hosts', TOKEN, { mac: mac(i), name: 'h' + i });
		if (r.code !== 201 && r.code !== 200) bad++;
	});
	const t1 = Date.now();
	const tokens = [];
	await pool(tasks, 8, async (i) => {
		const r = await call('POST', '/api/v1/tasks', TOKEN, { host: mac(i), type: 'wipe' });
		if (r.code !== 201) { bad++; return; }
		const script = await (await fetch(`${URL_BASE}/api/v1/boot/${mac(i)}.ipxe`)).text();
		const m = /pxed\.token=([0-9a-f]+)/.exec(script);
		if (!m) { bad++; return; }
		const f = await call('GET', '/api/v1/agent/task', m[1]);
		if (f.code !== 200) { bad++; return; }
		tokens.push(m[1]);
	});
	writeFileSync(TOKENS, JSON.stringify(tokens));
	console.log(JSON.stringify({ hosts, hosts_s: (t1 - t0) / 1000, tasks: tokens.length,
		tasks_s: (Date.now() - t1) / 1000, failed_calls: bad }));
}

// Each running task reports progress in turn, RATE reports a second in all.
async function gen(rate, seconds) {
	const tokens = JSON.parse(readFileSync(TOKENS, 'utf8'));
	const total = 1 << 30;
	const end = Date.now() + seconds * 1000;
	const start = Date.now();
	let sent = 0;
	let bad = 0;
	let inflight = 0;
	while (Date.now() < end) {
		const due = Math.floor(((Date.now() - start) / 1000) * rate);
		while (sent < due && inflight < 64) {
			const i = sent % tokens.length;
			const step = Math.floor(sent / tokens.length) + 1;
			inflight++;
			sent++;
			call('POST', '/api/v1/agent/progress', tokens[i], { phase: 'wipe', bytes: Math.min(total, step * (1 << 22)),
				total, rate: 50 << 20 }).then((r) => { if (r.code !== 204) bad++; })
				.catch(() => { bad++; }).finally(() => { inflight--; });
		}
		await sleep(5);
	}
	while (inflight > 0) await sleep(5);
	console.log(JSON.stringify({ sent, per_s: +(sent / ((Date.now() - start) / 1000)).toFixed(1), failed: bad }));
}

function stats(xs) {
	const s = [...xs].sort((a, b) => a - b);
	const q = (p) => s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : null;
	return { n: s.length, median: q(0.5), p95: q(0.95), max: s.length ? s[s.length - 1] : null };
}

async function measure(loads, seconds, rate) {
	const ctx = await launch(process.env.PROFILE);
	const page = ctx.pages()[0] || await ctx.newPage();
	await page.goto(URL_BASE + UI_PATH);
	await page.fill('#token', TOKEN);
	await page.press('#token', 'Enter');
	await page.waitForSelector('#tile-hosts');
	// loads: a fresh navigation each time (the token stays in the session)
	const ready = [];
	const counts = [];
	for (let i = 0; i < loads; i++) {
		await page.goto('about:blank');     // a new document each time, not a hash change
		await page.goto(URL_BASE + UI_PATH + '#/dashboard', { waitUntil: 'commit' });
		await page.waitForFunction(() => performance.getEntriesByName('pxed:dashboard-ready').length > 0, null,
			{ timeout: 30000, polling: 20 });
		ready.push(Math.round(await page.evaluate(() => performance.getEntriesByName('pxed:dashboard-ready')[0].startTime)));
		counts.push(await page.evaluate(() => document.querySelectorAll('#running-tasks tr').length));
	}
	// responsiveness with pxed's own events: the generator's progress reports
	const real = await window_(page, seconds, () => {
		const g = spawn(process.execPath, [new URL(import.meta.url).pathname, 'gen', String(rate), String(seconds)],
			{ stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
		let out = '';
		g.stdout.on('data', (d) => { out += d; });
		return new Promise((r) => g.on('close', () => r(out.trim() ? JSON.parse(out.trim()) : null)));
	});
	// the same rate of task events handed to the page itself (the stream's
	// path from the listeners on), for when pxed's stream does not bring them
	if (process.env.BENCH_CSS) await page.addStyleTag({ content: process.env.BENCH_CSS });
	let cdp = null;
	if (process.env.BENCH_PROFILE) {
		cdp = await page.context().newCDPSession(page);
		await cdp.send('Profiler.enable');
		await cdp.send('Profiler.start');
	}
	const injected = await window_(page, seconds, async () => {
		const n = await page.evaluate(async ([r, s]) => {
			const { tasks } = await window.pxedConsole.api('tasks?limit=500');
			const run = tasks.filter((t) => t.state === 'running');
			let i = 0;
			const end = performance.now() + s * 1000;
			await new Promise((done) => {
				const t0 = performance.now();
				const timer = setInterval(() => {
					const due = Math.floor(((performance.now() - t0) / 1000) * r);
					for (; i < due; i++) {
						const t = run[i % run.length];
						t.bytes = Math.min(t.total || 1 << 30, (t.bytes || 0) + (1 << 22));
						window.pxedConsole.inject('task', Object.assign({}, t));
					}
					if (performance.now() >= end) { clearInterval(timer); done(); }
				}, 10);
			});
			return i;
		}, [rate, seconds]);
		return { injected: n, per_s: +(n / seconds).toFixed(1) };
	});
	if (cdp) {
		// where the page's time went while the events were injected (BENCH_PROFILE=1)
		const { profile } = await cdp.send('Profiler.stop');
		const self = new Map();
		const byId = new Map(profile.nodes.map((n) => [n.id, n]));
		const dt = profile.timeDeltas;
		profile.samples.forEach((id, i) => {
			const n = byId.get(id);
			const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`;
			self.set(k, (self.get(k) || 0) + (dt[i] || 0) / 1000);
		});
		for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.error(`profile: ${v.toFixed(0)} ms ${k}`);
	}
	await ctx.close();
	console.log(JSON.stringify({ dashboard_ready_ms: stats(ready), task_rows: counts, window_s: seconds,
		with_pxed_events: real, with_injected_events: injected }));
}

// Run work() (a promise) for about seconds while the page records long
// tasks, frame intervals and key presses' durations.
async function window_(page, seconds, work) {
	await page.evaluate(() => {
		window.benchLong = [];
		window.benchEvents = [];
		window.benchFrames = [];
		window.benchStop = false;
		if (!window.benchObservers) {
			window.benchObservers = true;
			new PerformanceObserver((l) => { for (const e of l.getEntries()) window.benchLong.push(e.duration); })
				.observe({ type: 'longtask', buffered: false });
			new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.name === 'keydown') window.benchEvents.push(e.duration); })
				.observe({ type: 'event', durationThreshold: 16, buffered: false });
			document.addEventListener('keydown', () => {});
		}
		let last = performance.now();
		const tick = (t) => { window.benchFrames.push(t - last); last = t; if (!window.benchStop) requestAnimationFrame(tick); };
		requestAnimationFrame(tick);
		window.benchEvents0 = window.pxedConsole.live.events;
	});
	const done = work();
	let finished = false;
	const result = done.then((r) => { finished = true; return r; });
	const presses = [];
	const end = Date.now() + seconds * 1000;
	while (!finished || Date.now() < end) {
		const t = Date.now();
		await page.keyboard.press('Shift');         // an input event with no effect on the page
		presses.push(Date.now() - t);
		await sleep(250);
		if (Date.now() > end + 30000) break;
	}
	const what = await result;
	const got = await page.evaluate(() => {
		window.benchStop = true;
		return { long: window.benchLong, events: window.benchEvents, frames: window.benchFrames,
			received: window.pxedConsole.live.events - window.benchEvents0, mode: window.pxedConsole.live.mode,
			rows: document.querySelectorAll('#running-tasks tr').length,
			pct: [...document.querySelectorAll('#running-tasks [role=progressbar]')].map((b) => +b.dataset.pct) };
	});
	return {
		source: what, live_mode: got.mode, events_received: got.received, events_per_s: +(got.received / seconds).toFixed(1),
		long_tasks: { count: got.long.length, total_ms: Math.round(got.long.reduce((x, y) => x + y, 0)), ...stats(got.long.map(Math.round)) },
		key_event_ms_over_16: stats(got.events), key_press_roundtrip_ms: stats(presses),
		frame_interval_ms: stats(got.frames.map((x) => Math.round(x))), rows_at_end: got.rows,
		mean_bar_pct_at_end: got.pct.length ? +(got.pct.reduce((x, y) => x + y, 0) / got.pct.length).toFixed(2) : null,
	};
}

const [cmd, a, b, c] = process.argv.slice(2);
if (cmd === 'setup') await setup(+a, +b);
else if (cmd === 'gen') await gen(+a, +b);
else if (cmd === 'measure') await measure(+a, +b, +c);
else {
	console.error('usage: bench.mjs setup HOSTS TASKS | gen RATE SECONDS | measure LOADS SECONDS RATE');
	process.exit(2);
}
process.exit(0);
