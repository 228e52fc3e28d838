// Live updates: pxed's Server-Sent Events (GET /api/v1/events), read with
// fetch() so that the token goes in the Authorization header (EventSource
// cannot send one, and a token in the URL would land in logs).
//
// Each event is handed to the listeners as (kind, data, id); 'open' (the
// stream (re)started, or pxed says events were lost: a 'gap') tells pages
// to reload what they show.  The stream
// resumes with Last-Event-ID after a break.  On a pxed without the
// endpoint the console polls instead: listeners get ('poll') every
// POLL_MS, and pages refresh what they show.

import { session } from './api.js';

const POLL_MS = 2000;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10000;
const LINE_MAX = 1 << 20;       // a longer line than this is not an event of pxed's

const listeners = new Set();
export const live = { mode: 'off', lastId: '', events: 0, onmode: null };

let controller = null;
let pollTimer = null;
let retryMs = RETRY_MIN_MS;

export function subscribe(fn) {
	listeners.add(fn);
	return () => listeners.delete(fn);
}

function emit(kind, data, id) {
	live.events++;
	for (const fn of [...listeners]) {
		try {
			fn(kind, data, id);
		} catch (e) {
			console.error('event listener', e);
		}
	}
}

function setMode(mode) {
	live.mode = mode;
	if (live.onmode) live.onmode(mode);
}

// Parse the text/event-stream lines of one block into an event.
function dispatch(block) {
	let kind = 'message';
	let id = null;
	const data = [];
	for (const line of block) {
		if (line === '' || line[0] === ':') continue;
		const i = line.indexOf(':');
		const field = i < 0 ? line : line.slice(0, i);
		let value = i < 0 ? '' : line.slice(i + 1);
		if (value[0] === ' ') value = value.slice(1);
		if (field === 'event') kind = value;
		else if (field === 'data') data.push(value);
		else if (field === 'id' && !value.includes('\0')) id = value;
		else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Math.max(RETRY_MIN_MS, +value);
	}
	if (id !== null) live.lastId = id;
	if (data.length === 0) return;
	// pxed's buffer lost events for us: pages reload what they show, as
	// after a reconnection
	if (kind === 'gap') kind = 'open';
	let parsed;
	try {
		parsed = JSON.parse(data.join('\n'));
	} catch (e) {
		return;
	}
	emit(kind, parsed, id);
}

async function readStream(res) {
	const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
	let buf = '';
	let block = [];
	for (;;) {
		const { value, done } = await reader.read();
		if (done) return;
		buf += value;
		let m;
		const re = /\r\n|\r|\n/g;
		let start = 0;
		while ((m = re.exec(buf)) !== null) {
			// a lone \r at the end may be the first half of \r\n
			if (m[0] === '\r' && m.index === buf.length - 1) break;
			const line = buf.slice(start, m.index);
			start = re.lastIndex;
			if (line === '') {
				dispatch(block);
				block = [];
			} else {
				block.push(line);
			}
		}
		buf = buf.slice(start);
		if (buf.length > LINE_MAX) throw new Error('event stream: a line too long');
	}
}

async function connect() {
	const ctl = new AbortController();     // this connection's: stop() may replace controller
	controller = ctl;
	const hd = { Accept: 'text/event-stream', Authorization: 'Bearer ' + session.token };
	if (live.lastId) hd['Last-Event-ID'] = live.lastId;
	let res;
	try {
		res = await fetch('/api/v1/events', { headers: hd, signal: ctl.signal, cache: 'no-store' });
	} catch (e) {
		if (ctl.signal.aborted) return;
		return retry();
	}
	if (ctl.signal.aborted) return;
	if (res.status === 404) {
		startPolling();
		return;
	}
	if (res.status === 401) {
		setMode('off');
		if (session.onUnauthorized) session.onUnauthorized('the event stream refused the token');
		return;
	}
	if (!res.ok || !res.body) return retry();
	setMode('live');
	retryMs = RETRY_MIN_MS;
	emit('open', {}, null);     // pages reload what they show: events may have been missed
	try {
		await readStream(res);
	} catch (e) {
		/* a cut connection: resume below */
	}
	if (!ctl.signal.aborted) retry();
}

function retry() {
	setMode('reconnecting');
	const wait = retryMs;
	retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
	setTimeout(() => {
		if (live.mode === 'reconnecting') connect();
	}, wait);
}

function startPolling() {
	setMode('polling');
	clearInterval(pollTimer);
	pollTimer = setInterval(() => emit('poll', {}, null), POLL_MS);
}

// An event handed to the listeners as if it had come on the stream: for
// bench/console-load, which measures the page at an event rate pxed may
// not produce yet.
export function inject(kind, data) {
	emit(kind, data, null);
}

export function start() {
	stop();
	connect();
}

export function stop() {
	if (controller) controller.abort();
	controller = null;
	clearInterval(pollTimer);
	pollTimer = null;
	setMode('off');
}
