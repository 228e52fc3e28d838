// Hosts: search, a page at a time, and registering a new one.

import { api, page, session } from '../api.js';
import { h, clear, table, td, empty } from '../dom.js';
import { refresher, errorText, lastSeen, notify, formValues, pager } from './common.js';

const PAGE = 100;

export default function hosts(root) {
	const search = h('input#host-search', { type: 'search', placeholder: 'MAC or name', 'aria-label': 'search hosts',
		autocomplete: 'off' });
	const count = h('p.sub#host-count', { role: 'status' });
	const listBox = h('div#host-list');
	const pagerBox = h('div.pager');
	const form = h('form.inline#register', { 'aria-label': 'register a host' },
		h('label', { for: 'reg-mac' }, 'MAC'),
		h('input#reg-mac', { name: 'mac', required: true, placeholder: '52:54:00:12:34:56', autocomplete: 'off',
			pattern: '([0-9A-Fa-f]{2}[:\\-]?){5}[0-9A-Fa-f]{2}' }),
		h('label', { for: 'reg-name' }, 'Name'),
		h('input#reg-name', { name: 'name', maxlength: 63, placeholder: 'lab1', autocomplete: 'off' }),
		h('button.primary', { type: 'submit' }, 'Register'));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const v = formValues(form);
		try {
			const host = await api('hosts', { method: 'POST', body: { mac: v.mac, name: v.name || '' } });
			notify('ok', 'Registered ' + host.mac + (host.name ? ' as ' + host.name : ''));
			form.reset();
			location.hash = '#/hosts/' + encodeURIComponent(host.mac);
		} catch (e) {
			notify('error', 'Register: ' + e.message);
		}
	});
	root.append(h('div.page-head', h('h1', 'Hosts'), count),
		h('div.toolbar', h('form.search', { role: 'search', onsubmit: (e) => { e.preventDefault(); reload(); } }, search)),
		session.admin ? h('details.card#register-box', h('summary', 'Register a host'), form) : null,
		listBox, pagerBox);

	const pages = pager(pagerBox, () => load());
	let destroyed = false;
	let shown = '';         // what the table shows: not rebuilt when the same

	const load = async () => {
		const q = search.value.trim();
		const ql = q.toLowerCase();
		const match = q ? (x) => x.mac.includes(ql) || x.mac.replace(/:/g, '').includes(ql.replace(/[:-]/g, '')) ||
			(x.name || '').toLowerCase().includes(ql) : null;
		try {
			const p = await page('hosts', { limit: PAGE, after: pages.after(), q }, match);
			if (destroyed) return;
			const key = JSON.stringify([q, pages.at, p]);
			if (key === shown) return;
			shown = key;
			count.textContent = q ? `${p.items.length} shown matching “${q}”` : `${p.total ?? p.items.length} hosts`;
			clear(listBox);
			if (p.items.length === 0) listBox.append(empty(q ? 'No host matches.' : 'No host yet.'));
			else listBox.append(table([{ title: 'MAC' }, { title: 'Name' }, { title: 'Arch', cls: 'col-phase' },
				{ title: 'Approved' }, { title: 'Inventory', cls: 'col-msg' }, { title: 'Last seen' }],
			p.items.map((x) => h('tr', { 'data-mac': x.mac },
				td(h('a', { href: '#/hosts/' + encodeURIComponent(x.mac) }, x.mac)),
				td(x.name || ''), td(x.arch || '', 'col-phase'), td(x.approved ? 'yes' : 'no'),
				td(x.inventory ? `${x.inventory.cpu || ''}${x.inventory.cores ? ' (' + x.inventory.cores + ' cores)' : ''}` : '', 'col-msg'),
				td(lastSeen(x.last_seen)))), { cls: 'grid hosts' }));
			pages.draw(p.next);
		} catch (e) {
			if (!destroyed) clear(listBox).append(errorText(e));
		}
	};
	const reload = () => {
		pages.reset();
		load();
	};
	let typing = null;
	search.addEventListener('input', () => {
		clearTimeout(typing);
		typing = setTimeout(reload, 250);
	});
	const refresh = refresher(load, 2000);
	load();
	return {
		onEvent(kind) {
			if (kind === 'host' || kind === 'poll' || kind === 'open') refresh();
		},
		destroy() {
			destroyed = true;
			refresh.cancel();
			clearTimeout(typing);
		},
	};
}
