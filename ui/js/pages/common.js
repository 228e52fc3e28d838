// What several pages share: refreshing on events, task rows with their
// progress bars, state badges, buttons that call the API.

import { h, clear, progressBar, td } from '../dom.js';
import { bytes, rate, ago } from '../format.js';
import { api, session } from '../api.js';

// refresher(fn, ms): a function that runs fn soon, at most once per ms
// (calls in between are folded into one run after it).
export function refresher(fn, ms = 1000) {
	let last = 0;
	let timer = null;
	let running = false;
	let again = false;
	const run = async () => {
		timer = null;
		if (running) {
			again = true;
			return;
		}
		running = true;
		last = performance.now();
		try {
			await fn();
		} catch (e) {
			console.error(e);
		} finally {
			running = false;
			if (again) {
				again = false;
				trigger();
			}
		}
	};
	const trigger = () => {
		if (timer) return;
		const wait = Math.max(0, ms - (performance.now() - last));
		timer = setTimeout(run, wait);
	};
	trigger.cancel = () => clearTimeout(timer);
	trigger.now = run;
	return trigger;
}

export function badge(state) {
	return h('span.badge', { 'data-state': state }, state);
}

export const ACTIVE = new Set(['pending', 'booting', 'running']);

export function hostLink(mac, name) {
	return h('a', { href: '#/hosts/' + encodeURIComponent(mac) }, name ? name + ' (' + mac + ')' : mac);
}

// A row of a task list; row.update(task) puts a newer state in place
// (the progress bar moves without the row being rebuilt).
export function taskRow(t, opts = {}) {
	const bar = progressBar('task ' + t.id + ' progress');
	const state = h('td');
	const phase = h('td.col-phase');
	const rateCell = h('td.col-rate.num');
	const message = h('td.col-msg');
	const actions = h('td.actions');
	const row = h('tr', { 'data-task': String(t.id) },
		td(h('a', { href: '#/hosts/' + encodeURIComponent(t.host), title: 'task ' + t.id + ' on its host' }, '#' + t.id)),
		opts.hideHost ? null : td(hostLink(t.host, opts.names && opts.names[t.host])),
		td(t.type + (t.image ? ' ' + t.image : '')),
		state, phase, h('td.col-bar', bar), rateCell, message, actions);
	let shown = '';
	row.update = (task) => {
		t = task;
		// a report that changes nothing visible touches no node
		const key = [t.state, t.phase, t.bytes, t.total, t.rate, t.message].join('\u0001');
		if (key === shown) return;
		const stateChanged = !shown || shown.split('\u0001')[0] !== t.state;
		shown = key;
		if (stateChanged) {
			state.replaceChildren(badge(t.state));
			row.dataset.state = t.state;
		}
		if (phase.textContent !== (t.phase || '')) phase.textContent = t.phase || '';
		const finished = t.state === 'done';
		const caption = t.total > 0 ? bytes(t.bytes) + ' / ' + bytes(t.total) : '';
		bar.set(finished ? 1 : t.bytes, finished ? 1 : t.total, finished ? 'done' : caption);
		rateCell.textContent = ACTIVE.has(t.state) ? rate(t.rate) : '';
		if (message.textContent !== (t.message || '')) message.textContent = t.message || '';
		if (stateChanged) {
			actions.replaceChildren();
			if (ACTIVE.has(t.state) && session.admin)
				actions.append(actionButton('Cancel', () => cancelTask(t.id), { danger: true,
					label: 'Cancel task ' + t.id }));
		}
	};
	row.update(t);
	return row;
}

export const TASK_COLUMNS = (hideHost) => [
	{ title: 'Task' }, hideHost ? null : { title: 'Host' }, { title: 'What' }, { title: 'State' },
	{ title: 'Phase', cls: 'col-phase' }, { title: 'Progress', cls: 'col-bar' },
	{ title: 'Rate', cls: 'col-rate' }, { title: 'Message', cls: 'col-msg' }, { title: '' },
].filter(Boolean);

async function cancelTask(id) {
	await api('tasks/' + id + '/cancel', { method: 'POST' });
}

// A button that runs an async action, shows it is busy, and says what
// went wrong next to itself.
export function actionButton(text, fn, opts = {}) {
	const b = h('button', { type: 'button', class: opts.danger ? 'danger' : (opts.primary ? 'primary' : null),
		'aria-label': opts.label || null });
	b.textContent = text;
	b.addEventListener('click', async () => {
		if (opts.confirm && !window.confirm(opts.confirm)) return;
		b.disabled = true;
		try {
			await fn();
			if (opts.done) opts.done();
		} catch (e) {
			notify('error', text + ': ' + e.message);
		} finally {
			b.disabled = false;
		}
	});
	return b;
}

// A message at the top of the page (role=alert for errors).
export function notify(kind, text) {
	let box = document.getElementById('notices');
	if (!box) {
		box = h('div.notices#notices', { 'aria-live': 'polite' });
		document.body.append(box);
	}
	const n = h('div.notice', { 'data-kind': kind, role: kind === 'error' ? 'alert' : 'status' }, text,
		h('button.link', { type: 'button', 'aria-label': 'dismiss', onclick: () => n.remove() }, '×'));
	box.append(n);
	setTimeout(() => n.remove(), kind === 'error' ? 12000 : 5000);
}

export function errorText(e) {
	return h('p.error', { role: 'alert' }, e.message || String(e));
}

export function section(title, ...children) {
	return h('section.card', h('h2', title), ...children);
}

export function lastSeen(unix) {
	return h('time', { datetime: unix ? new Date(unix * 1000).toISOString() : null,
		title: unix ? new Date(unix * 1000).toLocaleString() : null }, ago(unix));
}

// A form's fields as an object (checkboxes as booleans, empty text left out).
export function formValues(form) {
	const out = {};
	for (const el of form.elements) {
		if (!el.name || el.disabled) continue;
		if (el.type === 'checkbox') out[el.name] = el.checked;
		else if (el.value !== '') out[el.name] = el.value;
	}
	return out;
}

export function missing(what, endpoint) {
	return h('p.missing', what + ' — this pxed does not serve ', h('code', endpoint), ' yet.');
}

// Pages of a list (docs/API.md, Limits): the "after" key of each page seen,
// and buttons to the previous and the next.  draw(next) after each load.
export function pager(box, load, labels = ['← Previous', 'Next →']) {
	const p = { stack: [''], at: 0 };
	p.after = () => p.stack[p.at];
	p.reset = () => {
		p.stack = [''];
		p.at = 0;
	};
	p.draw = (next) => {
		clear(box);
		if (p.at > 0) box.append(h('button', { type: 'button', onclick: () => { p.at--; load(); } }, labels[0]));
		if (next) box.append(h('button.next-page', { type: 'button', onclick: () => {
			p.stack = p.stack.slice(0, p.at + 1).concat([next]);
			p.at++;
			load();
		} }, labels[1]));
	};
	return p;
}
