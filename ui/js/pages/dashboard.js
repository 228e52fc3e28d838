// The dashboard: machines booting now and where each is, transfers in
// flight, tasks running with their progress, boots and failures per hour,
// subnets, and the DHCP server's alarms (a pool low, another server).

import { api, optional, page } from '../api.js';
import { h, clear, progressBar, table, td, empty } from '../dom.js';
import { bytes, rate, ago, duration } from '../format.js';
import { hourlyChart } from '../chart.js';
import { STAGES, whereIs, stageIndex } from '../boot.js';
import { ACTIVE, TASK_COLUMNS, taskRow, refresher, section, errorText, missing, badge, actionButton, lastSeen } from './common.js';
import { session } from '../api.js';

const BOOTING_WINDOW_S = 15 * 60;

function tile(label, id) {
	const v = h('span.tile-value', { id }, '…');
	return [h('div.tile', h('span.tile-label', label), v), v];
}

// Stage boxes for one machine: done ones filled, the current one marked.
function stepper(ev) {
	const w = whereIs(ev);
	const cur = stageIndex(w.stage);
	const what = w.done ? 'done' : w.failed ? 'failed at: ' + STAGES[cur][1].toLowerCase() : STAGES[cur][1];
	return h('div.where',
		h('ol.steps', { 'aria-hidden': 'true' },
			STAGES.map(([id, title], i) => h('li', {
				class: i < cur || (i === cur && w.done) ? 'done' : i === cur ? (w.failed ? 'failed' : 'current') : null,
				title,
			}))),
		h('span.stage', what));
}

async function activeTasks() {
	const states = ['running', 'booting', 'pending'];
	const pages = await Promise.all(states.map((s) =>
		page('tasks', { state: s, limit: 500 }, (t) => t.state === s)));
	return pages.flatMap((p) => p.items);
}

export default function dashboard(root) {
	const [hostsTile, hostsV] = tile('Hosts', 'tile-hosts');
	const [tasksTile, tasksV] = tile('Tasks active', 'tile-tasks');
	const [xferTile, xferV] = tile('Transfers', 'tile-transfers');
	const [bootsTile, bootsV] = tile('Boots, last hour', 'tile-boots');
	const [failTile, failV] = tile('Failures, last hour', 'tile-failures');
	const bootingBox = h('div#booting');
	const tasksBody = h('tbody#running-tasks');
	const tasksEmpty = empty('No task is running.');
	const xferBox = h('div#transfers');
	const chartBox = h('div.chart-wrap#boots-chart');
	const subnetBox = h('div#subnets');
	const alarmBox = h('div.alarms#alarms', { role: 'alert', hidden: true });
	const version = h('p.sub#version');
	root.append(
		h('div.page-head', h('h1', 'Dashboard'), version),
		alarmBox,
		h('div.tiles', hostsTile, tasksTile, xferTile, bootsTile, failTile),
		h('div.cols',
			section('Booting now', bootingBox),
			section('Tasks running',
				h('div.table-wrap', h('table.grid.tasks', h('thead', h('tr', TASK_COLUMNS(false).map((c) =>
					h('th', { scope: 'col', class: c.cls || null }, c.title)))), tasksBody)), tasksEmpty)),
		h('div.cols',
			section('Transfers in flight', xferBox),
			section('Boots and failures per hour', chartBox)),
		section('Subnets', subnetBox));

	const rows = new Map();          // task id -> row
	const clients = new Map();       // mac -> last event
	let destroyed = false;

	const putTask = (t) => {
		let row = rows.get(t.id);
		if (!row) {
			if (!ACTIVE.has(t.state)) return;
			row = taskRow(t);
			rows.set(t.id, row);
			tasksBody.prepend(row);
		} else {
			row.update(t);
		}
		if (!ACTIVE.has(t.state) && !row.leaving) {
			row.leaving = setTimeout(() => {
				row.remove();
				rows.delete(t.id);
				tasksCount();
			}, 15000);
		}
	};
	const tasksCount = () => {
		const n = [...rows.values()].filter((r) => !r.leaving).length;
		tasksV.textContent = String(n);
		tasksEmpty.hidden = rows.size > 0;
	};

	let bootingShown = null;
	const renderBooting = () => {
		const now = Date.now();
		const list = [...clients.values()]
			.filter((ev) => now - ev.time_ms < BOOTING_WINDOW_S * 1000)
			.sort((a, b) => b.time_ms - a.time_ms).slice(0, 50);
		// the same machines at the same step, within the same minute: as shown
		const key = JSON.stringify([list, Math.floor(now / 60000)]);
		if (key === bootingShown) return;
		bootingShown = key;
		clear(bootingBox);
		if (list.length === 0) {
			bootingBox.append(empty('No machine booted in the last 15 minutes.'));
			return;
		}
		bootingBox.append(table([{ title: 'Machine' }, { title: 'Where' }, { title: 'Last event', cls: 'col-msg' },
			{ title: 'When' }],
		list.map((ev) => h('tr', { 'data-mac': ev.mac },
			td(h('a', { href: '#/timeline/' + encodeURIComponent(ev.mac), title: 'boot timeline of ' + ev.mac }, ev.mac)),
			td(stepper(ev)),
			td([h('code', ev.kind), ' ', ev.detail || ''], 'col-msg'),
			td(ago(ev.time_ms / 1000, now), 'num')))));
	};

	const loadTasks = async () => {
		const list = await activeTasks();
		const seen = new Set(list.map((t) => t.id));
		for (const t of list) putTask(t);
		for (const [id, row] of rows)
			if (!seen.has(id) && !row.leaving) {
				// ended while we were not listening: fetch its last state
				api('tasks/' + id).then(putTask).catch(() => { row.remove(); rows.delete(id); });
			}
		tasksCount();
	};

	const loadClients = async () => {
		const data = await optional('clients');
		clients.clear();
		for (const ev of (data && data.clients) || []) clients.set(ev.mac, ev);
		renderBooting();
	};

	const loadTransfers = async () => {
		const data = await optional('transfers');
		clear(xferBox);
		if (!data) {
			xferV.textContent = '–';
			xferBox.append(missing('Transfers in flight', 'GET /api/v1/transfers'));
			return false;
		}
		const list = data.transfers || [];
		xferV.textContent = String(list.length);
		if (list.length === 0) {
			xferBox.append(empty('No transfer in flight.'));
			return true;
		}
		xferBox.append(table([{ title: 'Proto' }, { title: 'Peer' }, { title: 'File' }, { title: 'Progress', cls: 'col-bar' },
			{ title: 'Rate' }], list.map((x) => {
			const bar = progressBar('transfer of ' + x.file);
			bar.set(x.bytes, x.total, x.total ? bytes(x.bytes) + ' / ' + bytes(x.total) : bytes(x.bytes));
			return h('tr', td(x.proto), td(x.mac ? h('a', { href: '#/timeline/' + encodeURIComponent(x.mac) }, x.peer) : x.peer),
				td(x.file, 'col-msg'), h('td.col-bar', bar), td(rate(x.rate), 'num'));
		})));
		return true;
	};

	const loadStats = async () => {
		const data = await optional('stats/boots?hours=24');
		clear(chartBox);
		if (!data) {
			bootsV.textContent = failV.textContent = '–';
			chartBox.append(missing('Boots per hour', 'GET /api/v1/stats/boots'));
			return;
		}
		const hours = data.hours || [];
		const last = hours[hours.length - 1] || { boots: 0, failures: 0 };
		bootsV.textContent = String(last.boots);
		failV.textContent = String(last.failures);
		chartBox.append(hourlyChart(hours, Math.max(280, chartBox.clientWidth || 560)));
	};

	const loadSubnets = async () => {
		let data = null;
		let off = false;
		try {
			data = await optional('subnets');
		} catch (e) {
			if (e.status === 409) off = true;
			else throw e;
		}
		clear(subnetBox);
		if (off) {
			subnetBox.append(empty('pxed runs no DHCP here: it only serves boot files and images.'));
			return;
		}
		if (!data) {
			const cfg = await optional('config');
			if (cfg && cfg.subnets) data = { subnets: cfg.subnets };
		}
		if (!data) {
			subnetBox.append(missing('Subnets', 'GET /api/v1/subnets'));
			return;
		}
		showAlarms(data);
		const list = data.subnets || [];
		if (list.length === 0) {
			subnetBox.append(empty('No subnet configured.'));
			return;
		}
		subnetBox.append(table([{ title: 'Subnet' }, { title: 'Mode' }, { title: 'Reached by', cls: 'col-msg' },
			{ title: 'Clients, last hour' }, { title: 'Boots, last hour' }, { title: 'Leases' },
			{ title: 'Free' }, { title: '' }],
		list.map((s) => {
			const cidr = s.cidr || s.subnet || s.name || '';
			const acts = h('td.actions');
			if (session.admin && cidr) {
				const path = 'subnets/' + cidr.split('/').map(encodeURIComponent).join('/');
				if (s.mode === 'off')
					acts.append(actionButton('Enable', () => api(path + '/enable', { method: 'POST', body: {} }),
						{ label: 'Enable ' + cidr, done: subnets.now }));
				else
					acts.append(actionButton('Disable', () => api(path + '/disable', { method: 'POST', body: {} }),
						{ label: 'Disable ' + cidr, danger: true, confirm: 'pxed will answer nothing on ' + cidr + '. Disable it?',
							done: subnets.now }));
			}
			return h('tr', td(cidr), td(badge(s.mode || '?')), td(s.reach || s.via || '', 'col-msg'),
				td(s.clients_last_hour ?? s.clients ?? '–', 'num'), td(s.boots_last_hour ?? s.boots ?? '–', 'num'),
				td(s.leases ?? '–', 'num'),
				td(s.pool ? h('span', s.pool.free + ' of ' + s.pool.leasable, s.pool.low ? [' ', badge('low')] : [])
					: '–', 'num'), acts);
		})));
	};

	// Alarms of the DHCP server (pool low, another server on a served
	// subnet), from the subnet list; an 'alarm' event reloads it.
	const showAlarms = (data) => {
		const items = [];
		for (const s of data.subnets || [])
			if (s.pool && s.pool.low)
				items.push(h('li', `Pool of ${s.cidr} low: ${s.pool.free} of ${s.pool.leasable} addresses free` +
					(s.pool.refused ? ` (${s.pool.refused} requests of new clients not served lately)` : '') + '.'));
		for (const r of data.rogue_servers || [])
			items.push(h('li', `Another DHCP server, ${r.server}, answers on ${r.subnet}: ${r.type} ` +
				(r.offered || '(no address)') + ` to ${r.mac}, ${r.replies} answer(s), last `, lastSeen(r.last_seen), '.'));
		clear(alarmBox);
		alarmBox.hidden = items.length === 0;
		if (items.length) alarmBox.append(h('h2', 'Alarms'), h('ul', items));
	};

	const loadHead = async () => {
		const [st, hp] = await Promise.all([api('status'), api('hosts?limit=1')]);
		hostsV.textContent = String(hp.total ?? (hp.hosts || []).length);
		version.textContent = `pxed ${st.version}, up ${duration((st.uptime_s || 0) * 1000)}`;
	};

	const guard = (fn, box) => async () => {
		try {
			await fn();
		} catch (e) {
			if (!destroyed && box) clear(box).append(errorText(e));
		}
	};
	const head = refresher(guard(loadHead, version), 2000);
	const tasks = refresher(guard(loadTasks, null), 1000);
	const booting = refresher(guard(loadClients, bootingBox), 1000);
	const stats = refresher(guard(loadStats, chartBox), 5000);
	const subnets = refresher(guard(loadSubnets, subnetBox), 5000);
	let hasTransfers = true;
	const transfers = refresher(async () => {
		try {
			hasTransfers = await loadTransfers();
		} catch (e) {
			clear(xferBox).append(errorText(e));
		}
	}, 1000);
	// transfers have no event of their own: asked for every 2 s while shown
	const xferTimer = setInterval(() => { if (hasTransfers) transfers(); }, 2000);
	const ticker = setInterval(renderBooting, 10000);
	const all = [head, tasks, booting, stats, subnets, transfers];
	// everything the dashboard shows has arrived: a mark for bench/console-load
	Promise.all(all.map((f) => f.now())).then(() => {
		if (!destroyed) performance.mark('pxed:dashboard-ready');
	});

	let pendingTasks = new Map();
	let frame = 0;
	const flush = () => {
		frame = 0;
		const batch = pendingTasks;
		pendingTasks = new Map();
		for (const t of batch.values()) putTask(t);
		tasksCount();
	};
	let bootDirty = false;
	return {
		onEvent(kind, data) {
			if (kind === 'task') {
				pendingTasks.set(data.id, data);
				if (!frame) frame = requestAnimationFrame(flush);
			} else if (kind === 'boot') {
				clients.set(data.mac, data);
				if (!bootDirty) {
					bootDirty = true;
					setTimeout(() => { bootDirty = false; renderBooting(); stats(); }, 500);
				}
			} else if (kind === 'host') {
				head();
			} else if (kind === 'alarm') {
				subnets();
			} else if (kind === 'poll' || kind === 'open') {
				for (const f of all) f();
			}
		},
		destroy() {
			destroyed = true;
			for (const f of all) f.cancel();
			clearInterval(xferTimer);
			clearInterval(ticker);
			if (frame) cancelAnimationFrame(frame);
			for (const r of rows.values()) clearTimeout(r.leaving);
		},
	};
}
