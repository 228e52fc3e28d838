// One host: name, approval, groups, tasks (assign any type, watch the
// active one, its history), inventory, health and wipe certificates.

import { api, optional, page, session } from '../api.js';
import { h, clear, table, td, empty, progressBar } from '../dom.js';
import { bytes, when } from '../format.js';
import { TASK_TYPES, AFTER } from '../tasktypes.js';
import { ACTIVE, TASK_COLUMNS, taskRow, actionButton, badge, errorText, formValues, lastSeen, notify,
	refresher, section } from './common.js';

function kv(pairs) {
	return h('dl.kv', pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
		.map(([k, v]) => [h('dt', k), h('dd', v)]));
}

// Any JSON value as nested lists: for members this console does not know.
export function jsonView(v) {
	if (v === null || typeof v !== 'object') return h('span', String(v));
	if (Array.isArray(v)) {
		if (v.length === 0) return h('span', '(none)');
		if (v.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
			const keys = [...new Set(v.flatMap((x) => Object.keys(x)))];
			return table(keys.map((k) => ({ title: k })), v.map((x) =>
				h('tr', keys.map((k) => td(x[k] !== undefined && typeof x[k] === 'object' ? jsonView(x[k]) :
					String(x[k] ?? ''))))));
		}
		return h('ul.plain', v.map((x) => h('li', jsonView(x))));
	}
	return kv(Object.entries(v).map(([k, x]) => [k, typeof x === 'object' && x !== null ? jsonView(x) : String(x)]));
}

function inventoryView(inv) {
	if (!inv) return h('p.empty', 'No inventory yet: the imaging agent sends one when the machine runs a task.');
	const { cpu, cores, ram, disks, nics, ...rest } = inv;
	const out = [kv([['CPU', cpu], ['Cores', cores], ['Memory', ram ? bytes(ram) : null]])];
	if (Array.isArray(disks) && disks.length) {
		out.push(h('h3', 'Disks'), table([{ title: 'Device' }, { title: 'Size' }, { title: 'Model', cls: 'col-msg' }, { title: 'Details', cls: 'col-msg' }],
			disks.map((d) => {
				const { name, dev, path, size, model, ...more } = d || {};
				return h('tr', td(name || dev || path || ''), td(size ? bytes(size) : ''), td(model || '', 'col-msg'),
					td(Object.keys(more).length ? jsonView(more) : '', 'col-msg'));
			})));
	}
	if (Array.isArray(nics) && nics.length) out.push(h('h3', 'Network interfaces'), jsonView(nics));
	if (Object.keys(rest).length) out.push(h('h3', 'More'), jsonView(rest));
	return out;
}

function taskForm(host, images, onDone) {
	const typeSel = h('select#task-type', { name: 'type' },
		TASK_TYPES.map((t) => h('option', { value: t.type }, t.title)));
	const fields = h('div.fields');
	const form = h('form.task-form#assign', { 'aria-label': 'assign a task' },
		h('div.field', h('label', { for: 'task-type' }, 'Task'), typeSel), fields,
		h('button.primary#assign-submit', { type: 'submit' }, 'Assign'));
	const draw = () => {
		const spec = TASK_TYPES.find((t) => t.type === typeSel.value);
		clear(fields);
		if (spec.image === 'pick') {
			fields.append(h('div.field', h('label', { for: 'task-image' }, 'Image'),
				images.length ? h('select#task-image', { name: 'image', required: true },
					images.map((im) => h('option', { value: im.name }, `${im.name} (${bytes(im.used)})`))) :
					h('span.empty', 'No image yet: capture one first.')));
		} else if (spec.image === 'name') {
			fields.append(h('div.field', h('label', { for: 'task-image' }, 'Image name'),
				h('input#task-image', { name: 'image', required: true, pattern: '[A-Za-z0-9_][A-Za-z0-9._-]{0,63}',
					autocomplete: 'off' })));
		}
		if (spec.verify)
			fields.append(h('div.field.check', h('input#task-verify', { type: 'checkbox', name: 'verify', checked: true }),
				h('label', { for: 'task-verify' }, 'verify what is written')));
		if (spec.replace)
			fields.append(h('div.field.check', h('input#task-replace', { type: 'checkbox', name: 'replace' }),
				h('label', { for: 'task-replace' }, 'replace an image of that name')));
		for (const [name, kind, label] of spec.options || []) {
			const id = 'opt-' + name;
			if (kind === 'bool')
				fields.append(h('div.field.check', h('input', { id, type: 'checkbox', name: 'opt:' + name }),
					h('label', { for: id }, label)));
			else
				fields.append(h('div.field', h('label', { for: id }, label),
					h('input', { id, name: 'opt:' + name, type: kind === 'number' ? 'number' : 'text', autocomplete: 'off' })));
		}
		if (spec.after)
			fields.append(h('div.field', h('label', { for: 'task-after' }, 'Then'),
				h('select#task-after', { name: 'after' }, AFTER.map((a) => h('option', { value: a }, a)))));
		fields.append(h('div.field.wide', h('label', { for: 'task-more' }, 'More options (JSON object, optional)'),
			h('input#task-more', { name: 'more', placeholder: '{"option": value}', autocomplete: 'off' })));
	};
	typeSel.addEventListener('change', draw);
	draw();
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const v = formValues(form);
		const body = { host, type: v.type };
		for (const [k, x] of Object.entries(v)) {
			if (k === 'type' || k === 'more') continue;
			if (k.startsWith('opt:')) {
				if (x === false || x === '') continue;     // not given: the server's default
				body[k.slice(4)] = typeof x === 'string' && /^\d+$/.test(x) && form.elements[k].type === 'number' ? +x : x;
			} else {
				body[k] = x;
			}
		}
		try {
			if (v.more) Object.assign(body, JSON.parse(v.more));
			const t = await api('tasks', { method: 'POST', body });
			notify('ok', `Task #${t.id}: ${t.type} ${t.image || ''} assigned to ${host}`);
			onDone();
		} catch (e) {
			notify('error', 'Assign: ' + e.message);
		}
	});
	return form;
}

export default function hostPage(root, arg) {
	const box = h('div');
	root.append(box);
	let destroyed = false;
	let mac = arg;
	let activeRow = null;
	let history = null;     // tbody of the task history
	const historyRows = new Map();
	let images = [];

	const render = async () => {
		let hst;
		try {
			[hst, images] = await Promise.all([api('hosts/' + encodeURIComponent(arg)),
				optional('images').then((d) => (d && d.images) || [])]);
		} catch (e) {
			if (!destroyed) clear(box).append(h('h1', 'Host ' + arg), errorText(e));
			return;
		}
		if (destroyed) return;
		mac = hst.mac;
		const title = hst.name || hst.mac;
		const head = h('div.page-head', h('h1', title),
			h('p.sub', hst.mac, ' · ', hst.approved ? badge('approved') : badge('not approved'),
				' · first seen ', lastSeen(hst.first_seen), ' · last seen ', lastSeen(hst.last_seen), ' · ',
				h('a#timeline-link', { href: '#/timeline/' + encodeURIComponent(hst.mac) }, 'Boot timeline')));
		const parts = [head];

		if (session.admin) {
			const name = h('input#host-name', { name: 'name', value: hst.name || '', maxlength: 63, autocomplete: 'off' });
			const nameForm = h('form.inline#rename', { 'aria-label': 'name the host' },
				h('label', { for: 'host-name' }, 'Name'), name,
				h('button', { type: 'submit' }, 'Save name'));
			nameForm.addEventListener('submit', async (e) => {
				e.preventDefault();
				try {
					await api('hosts', { method: 'POST', body: { mac: hst.mac, name: name.value.trim() } });
					notify('ok', 'Named ' + (name.value.trim() || hst.mac) + ' (and approved)');
					render();
				} catch (err) {
					notify('error', 'Name: ' + err.message);
				}
			});
			parts.push(section('Host',
				nameForm,
				h('p.help', 'Naming a host also approves it.'),
				h('div.buttons',
					hst.approved ?
						actionButton('Deny', () => api(`hosts/${hst.mac}/deny`, { method: 'POST' }), { done: render }) :
						actionButton('Approve', () => api(`hosts/${hst.mac}/approve`, { method: 'POST' }), { primary: true, done: render }),
					actionButton('Remove host', () => api('hosts/' + hst.mac, { method: 'DELETE' }), { danger: true,
						confirm: `Remove ${title}, its tasks and its group memberships?`,
						done: () => { location.hash = '#/hosts'; } }))));
		}

		// groups
		const groups = hst.groups || [];
		const groupList = h('ul.chips', groups.length === 0 ? h('li.empty', 'In no group.') :
			groups.map((g) => h('li', g, session.admin ? actionButton('×', () =>
				api(`groups/${encodeURIComponent(g)}/remove`, { method: 'POST', body: { hosts: [hst.mac] } }),
			{ label: 'remove from group ' + g, done: render }) : null)));
		const groupPart = [groupList];
		if (session.admin) {
			const all = await optional('groups');
			const gname = h('input#group-name', { name: 'group', required: true, list: 'group-names', autocomplete: 'off',
				pattern: '[A-Za-z0-9][A-Za-z0-9._-]{0,62}' });
			const gform = h('form.inline#add-group', { 'aria-label': 'add to a group' },
				h('label', { for: 'group-name' }, 'Add to group'), gname,
				h('datalist#group-names', ((all && all.groups) || []).map((g) => h('option', { value: g.name }))),
				h('button', { type: 'submit' }, 'Add'));
			gform.addEventListener('submit', async (e) => {
				e.preventDefault();
				try {
					await api(`groups/${encodeURIComponent(gname.value.trim())}/add`, { method: 'POST', body: { hosts: [hst.mac] } });
					render();
				} catch (err) {
					notify('error', 'Group: ' + err.message);
				}
			});
			groupPart.push(gform);
		}
		parts.push(section('Groups', ...groupPart));

		// the active task, and a form for a new one
		const taskBox = h('div#active-task');
		activeRow = null;
		if (hst.task) {
			activeRow = taskRow(hst.task, { hideHost: true });
			taskBox.append(h('div.table-wrap', h('table.grid.tasks', h('thead', h('tr', TASK_COLUMNS(true).map((c) =>
				h('th', { scope: 'col', class: c.cls || null }, c.title)))), h('tbody', activeRow))));
		} else {
			taskBox.append(h('p.empty', 'No active task: the machine boots its local disk at its next network boot.'));
			if (session.admin) taskBox.append(taskForm(hst.mac, images, render));
		}
		parts.push(section('Task', taskBox));

		parts.push(section('Inventory', inventoryView(hst.inventory)));
		if (hst.health !== undefined && hst.health !== null) parts.push(section('Health', jsonView(hst.health)));
		if (hst.wipes !== undefined && hst.wipes !== null) parts.push(section('Wipe certificates', jsonView(hst.wipes)));

		history = h('tbody#task-history');
		historyRows.clear();
		parts.push(section('Task history', h('div.table-wrap', h('table.grid.tasks',
			h('thead', h('tr', TASK_COLUMNS(true).map((c) => h('th', { scope: 'col', class: c.cls || null }, c.title)))), history))));
		clear(box).append(...parts);
		loadHistory();
	};

	const loadHistory = async () => {
		try {
			const p = await page('tasks', { host: mac, limit: 100 }, (t) => t.host === mac);
			if (destroyed || !history) return;
			clear(history);
			historyRows.clear();
			if (p.items.length === 0) history.append(h('tr', h('td', { colspan: 8 }, 'No task yet.')));
			for (const t of p.items) {
				const r = taskRow(t, { hideHost: true });
				historyRows.set(t.id, r);
				history.append(r);
			}
		} catch (e) {
			if (history) clear(history).append(h('tr', h('td', { colspan: 8 }, e.message)));
		}
	};

	const refresh = refresher(render, 1000);
	render();
	return {
		onEvent(kind, data) {
			if (kind === 'task' && data.host === mac) {
				const row = historyRows.get(data.id);
				if (row) row.update(data);
				if (activeRow && ACTIVE.has(data.state) && data.id === +activeRow.dataset.task) activeRow.update(data);
				else refresh();         // a new task or one that ended: the page changes shape
			} else if (kind === 'host' && data.mac === mac) {
				refresh();
			} else if (kind === 'poll') {
				// polling: only the moving parts, so that forms keep what is typed
				api('hosts/' + encodeURIComponent(mac)).then((hst) => {
					if (destroyed) return;
					const id = activeRow ? +activeRow.dataset.task : null;
					if ((hst.task ? hst.task.id : null) !== id) refresh();
					else if (hst.task) activeRow.update(hst.task);
				}).catch(() => {});
			} else if (kind === 'open') {
				refresh();
			}
		},
		destroy() {
			destroyed = true;
			refresh.cancel();
		},
	};
}
