// Settings: the effective configuration, read-only, and where each value
// came from (default, file, flag, api).

import { api, optional } from '../api.js';
import { h, clear, table, td } from '../dom.js';
import { duration } from '../format.js';
import { badge, errorText, missing, section } from './common.js';
import { jsonView } from './host.js';

export default function settings(root) {
	const filter = h('input#setting-filter', { type: 'search', placeholder: 'filter settings', 'aria-label': 'filter settings',
		autocomplete: 'off' });
	const box = h('div#settings');
	const statusBox = h('div#status');
	root.append(h('div.page-head', h('h1', 'Settings'), h('p.sub', 'The configuration pxed runs with. Change it in the ' +
		'configuration file or with flags, then reload.')),
	h('div.toolbar', filter), box, section('Counters', statusBox));
	let cfg = null;

	const draw = () => {
		clear(box);
		if (!cfg) {
			box.append(missing('The effective configuration', 'GET /api/v1/config'));
			return;
		}
		const q = filter.value.trim().toLowerCase();
		const bySection = new Map();
		for (const s of cfg.settings || []) {
			if (q && !(s.name + ' ' + s.value + ' ' + (s.section || '')).toLowerCase().includes(q)) continue;
			const key = s.section || '';
			if (!bySection.has(key)) bySection.set(key, []);
			bySection.get(key).push(s);
		}
		for (const [name, list] of bySection)
			box.append(section(name ? '[' + name + ']' : 'Global', table([{ title: 'Setting' }, { title: 'Value', cls: 'col-msg' },
				{ title: 'From' }], list.map((s) => h('tr', { 'data-setting': s.name }, td(h('code', s.name)),
				td(Array.isArray(s.value) ? s.value.join(', ') : String(s.value ?? ''), 'col-msg value'), td(badge(s.source || '?')))))));
		if (bySection.size === 0) box.append(h('p.empty', 'No setting matches.'));
		if (cfg.subnets && cfg.subnets.length) box.append(section('Subnets', jsonView(cfg.subnets)));
	};
	filter.addEventListener('input', draw);

	(async () => {
		try {
			cfg = await optional('config');
			draw();
			const st = await api('status');
			const { version, uptime_s: up, ...groups } = st;
			clear(statusBox).append(h('p', `pxed ${version}, up ${duration(up * 1000)}`), jsonView(groups));
		} catch (e) {
			clear(box).append(errorText(e));
		}
	})();
	return {};
}
