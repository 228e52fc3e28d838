// Tasks and multicast sessions, with live progress.

import { api, optional, page, session } from '../api.js';
import { h, clear, progressBar, table, td, empty } from '../dom.js';
import { bytes, rate, when } from '../format.js';
import { TASK_TYPES } from '../tasktypes.js';
import { TASK_COLUMNS, taskRow, actionButton, badge, errorText, pager, refresher, section } from './common.js';

const PAGE = 100;
const STATES = ['pending', 'booting', 'running', 'done', 'failed', 'cancelled'];

function sessionView(s) {
	const total = s.image_bytes || 0;
	const bar = progressBar('session ' + s.name);
	const rx = s.receivers || [];
	const complete = rx.filter((r) => r.state === 'complete' || (r.total > 0 && r.done >= r.total)).length;
	bar.set(Math.min(s.bytes_sent, total), total, total ? `${bytes(s.bytes_sent)} sent of ${bytes(total)}` : '');
	const acts = h('div.buttons');
	if (session.admin && (s.state === 'waiting' || s.state === 'sending')) {
		if (s.state === 'waiting')
			acts.append(actionButton('Start now', () => api(`mcast/${encodeURIComponent(s.name)}/start`, { method: 'POST' }),
				{ label: 'start session ' + s.name }));
		acts.append(actionButton('Cancel', () => api(`mcast/${encodeURIComponent(s.name)}/cancel`, { method: 'POST' }),
			{ danger: true, label: 'cancel session ' + s.name, confirm: `Stop sending ${s.name}? Receivers finish over HTTP.` }));
	}
	return h('article.session', { 'data-session': s.name },
		h('h3', s.name, ' ', badge(s.state)),
		h('p.sub', `image ${s.image}${s.group ? ', group ' + s.group + ':' + s.port : ''}; pass ${s.pass ?? '–'}; ` +
			`FEC ${s.fec || 'off'}${s.parity_sent ? ' (' + s.parity_sent + ' parity slices)' : ''}; ` +
			`${complete}/${rx.length} receivers complete (${s.min_receivers} wanted); ${rate(s.rate)}`),
		bar,
		rx.length ? h('ol.receivers', rx.map((r, i) => {
			const b = progressBar('receiver ' + (i + 1));
			b.set(r.done, r.total, `${r.done}/${r.total} chunks`);
			return h('li', h('span.rx-name', 'receiver ' + (i + 1) + ' ', badge(r.state || '')), b);
		})) : h('p.empty', 'No receiver has joined yet.'),
		s.error ? h('p.error', s.error) : null,
		acts);
}

export default function tasks(root) {
	const stateSel = h('select#filter-state', { 'aria-label': 'state' }, h('option', { value: '' }, 'any state'),
		STATES.map((s) => h('option', { value: s }, s)));
	const typeSel = h('select#filter-type', { 'aria-label': 'type' }, h('option', { value: '' }, 'any type'),
		TASK_TYPES.map((t) => h('option', { value: t.type }, t.type)));
	const body = h('tbody#task-list');
	const count = h('p.sub#task-count', { role: 'status' });
	const pagerBox = h('div.pager');
	const mcastBox = h('div#sessions');
	root.append(h('div.page-head', h('h1', 'Tasks'), count),
		h('div.toolbar', h('label', { for: 'filter-state' }, 'Show '), stateSel, typeSel),
		h('div.table-wrap', h('table.grid.tasks', h('thead', h('tr', TASK_COLUMNS(false).map((c) =>
			h('th', { scope: 'col', class: c.cls || null }, c.title)))), body)),
		pagerBox,
		section('Multicast sessions', mcastBox));
	const rows = new Map();
	const pages = pager(pagerBox, () => load(), ['← Newer', 'Older →']);
	let destroyed = false;

	const load = async () => {
		const state = stateSel.value;
		const type = typeSel.value;
		try {
			const p = await page('tasks', { limit: PAGE, after: pages.after(), state, type },
				(t) => (!state || t.state === state) && (!type || t.type === type));
			if (destroyed) return;
			count.textContent = `${p.total ?? p.items.length} tasks` + (state || type ? `, ${p.items.length} shown on this page` : '');
			const ids = new Set(p.items.map((t) => t.id));
			for (const [id, r] of rows) if (!ids.has(id)) { r.remove(); rows.delete(id); }
			let prev = null;
			for (const t of p.items) {
				let r = rows.get(t.id);
				if (r) r.update(t);
				else {
					r = taskRow(t);
					rows.set(t.id, r);
				}
				if (prev ? prev.nextSibling !== r : body.firstChild !== r) {
					if (prev) prev.after(r);
					else body.prepend(r);
				}
				prev = r;
			}
			if (rows.size === 0) clear(body).append(h('tr', h('td', { colspan: 9 }, 'No task.')));
			else for (const tr of [...body.children]) if (!tr.dataset.task) tr.remove();
			pages.draw(p.next);
		} catch (e) {
			if (!destroyed) clear(body).append(h('tr', h('td', { colspan: 9 }, e.message)));
		}
	};
	const sessions = new Map();
	const drawSessions = () => {
		clear(mcastBox);
		if (sessions.size === 0) mcastBox.append(empty('No multicast session.'));
		for (const s of sessions.values()) mcastBox.append(sessionView(s));
	};
	const loadSessions = async () => {
		try {
			const d = await optional('mcast');
			sessions.clear();
			for (const s of (d && d.sessions) || []) sessions.set(s.name, s);
			drawSessions();
		} catch (e) {
			clear(mcastBox).append(errorText(e));
		}
	};
	const refresh = refresher(load, 1000);
	const refreshSessions = refresher(loadSessions, 1000);
	const restart = () => { pages.reset(); load(); };
	stateSel.addEventListener('change', restart);
	typeSel.addEventListener('change', restart);
	load();
	loadSessions();
	let drawTimer = null;
	return {
		onEvent(kind, data) {
			if (kind === 'task') {
				const r = rows.get(data.id);
				if (r) r.update(data);
				else if (pages.at === 0) refresh();       // a new task: on the first page
			} else if (kind === 'mcast') {
				sessions.set(data.name, data);
				if (!drawTimer) drawTimer = setTimeout(() => { drawTimer = null; drawSessions(); }, 250);
			} else if (kind === 'poll' || kind === 'open') {
				refresh();
				refreshSessions();
			}
		},
		destroy() {
			destroyed = true;
			refresh.cancel();
			refreshSessions.cancel();
			clearTimeout(drawTimer);
		},
	};
}
