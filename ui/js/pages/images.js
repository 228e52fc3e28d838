// Images: size, used, stored, what deduplication saves, which hosts were
// deployed from each, verify and delete.

import { api, page, session } from '../api.js';
import { h, clear, table, td, empty } from '../dom.js';
import { bytes, when, percent } from '../format.js';
import { actionButton, errorText, hostLink, notify, refresher, section } from './common.js';

// Manifests are read for the savings only while they are few and small:
// a console must not pull gigabytes of JSON.
const DEDUP_MAX_IMAGES = 50;
const DEDUP_MAX_CHUNKS = 200000;

// Savings of deduplication across every image: the bytes of chunks
// named more than once (by one image or several) are stored once.
async function dedup(list) {
	const chunks = list.reduce((a, im) => a + (im.chunks || 0), 0);
	if (!session.admin || list.length === 0 || list.length > DEDUP_MAX_IMAGES || chunks > DEDUP_MAX_CHUNKS) return null;
	const seen = new Map();         // sha -> length
	const shared = new Map();       // image -> bytes of its chunks some other image has too
	let referenced = 0;
	const manifests = await Promise.all(list.map((im) => api(`images/${encodeURIComponent(im.name)}/manifest`)));
	const owners = new Map();       // sha -> set of image names
	manifests.forEach((m, i) => {
		for (const [, len, sha] of m.chunks || []) {
			referenced += len;
			if (!seen.has(sha)) seen.set(sha, len);
			if (!owners.has(sha)) owners.set(sha, new Set());
			owners.get(sha).add(list[i].name);
		}
	});
	manifests.forEach((m, i) => {
		let n = 0;
		for (const [, len, sha] of m.chunks || []) if (owners.get(sha).size > 1) n += len;
		shared.set(list[i].name, n);
	});
	let unique = 0;
	for (const len of seen.values()) unique += len;
	return { referenced, unique, shared };
}

// Hosts deployed from an image: the deploy tasks that ended done.
async function deployedFrom(name) {
	const p = await page('tasks', { type: 'deploy', image: name, state: 'done', limit: 500 },
		(t) => t.type === 'deploy' && t.image === name && t.state === 'done');
	return [...new Set(p.items.map((t) => t.host))];
}

export default function images(root) {
	const summary = h('div.tiles#image-summary');
	const listBox = h('div#image-list');
	root.append(h('div.page-head', h('h1', 'Images')), summary, listBox);
	let destroyed = false;

	const load = async () => {
		let list;
		try {
			list = (await api('images')).images || [];
		} catch (e) {
			clear(listBox).append(errorText(e));
			return;
		}
		if (destroyed) return;
		let d = null;
		try {
			d = await dedup(list);
		} catch (e) {
			d = null;
		}
		const deployed = await Promise.all(list.map((im) => deployedFrom(im.name).catch(() => [])));
		if (destroyed) return;
		const used = list.reduce((a, im) => a + im.used, 0);
		const stored = list.reduce((a, im) => a + im.stored, 0);
		clear(summary).append(
			h('div.tile', h('span.tile-label', 'Images'), h('span.tile-value', String(list.length))),
			h('div.tile', h('span.tile-label', 'Used (uncompressed)'), h('span.tile-value', bytes(used))),
			h('div.tile', h('span.tile-label', 'Stored (zstd)'), h('span.tile-value', bytes(stored))),
			h('div.tile', h('span.tile-label', 'Dedup savings'), h('span.tile-value#dedup-total',
				d ? bytes(d.referenced - d.unique) + ' (' + percent(d.referenced - d.unique, d.referenced) + ')' : '–')));
		clear(listBox);
		if (list.length === 0) {
			listBox.append(empty('No image yet: capture one from a host (Hosts → a host → Task → Capture).'));
			return;
		}
		listBox.append(table([{ title: 'Name' }, { title: 'Created', cls: 'col-phase' }, { title: 'Disk' },
			{ title: 'Used' }, { title: 'Stored' }, { title: 'Compression', cls: 'col-rate' },
			{ title: 'Shared with others', cls: 'col-rate' }, { title: 'Deployed to', cls: 'col-msg' }, { title: '' }],
		list.map((im, i) => {
			const result = h('span.verify-result', { role: 'status' });
			const acts = h('td.actions', result);
			if (session.admin) {
				acts.prepend(
					actionButton('Verify', async () => {
						result.textContent = 'verifying…';
						const r = await api(`images/${encodeURIComponent(im.name)}/verify`, { method: 'POST' });
						result.textContent = r.ok ? 'every chunk verified' : `${r.bad_chunks} bad chunk(s): ${r.error}`;
						result.dataset.ok = r.ok ? 'yes' : 'no';
					}, { label: 'Verify ' + im.name }),
					actionButton('Delete', async () => {
						const r = await api(`images/${encodeURIComponent(im.name)}`, { method: 'DELETE' });
						notify('ok', `Deleted ${im.name}: ${r.chunks_deleted} chunks, ${bytes(r.bytes_freed)} freed`);
					}, { danger: true, label: 'Delete ' + im.name, confirm: `Delete image ${im.name}? Chunks no other image uses are deleted.`,
						done: load }));
			}
			return h('tr', { 'data-image': im.name },
				td(h('strong', im.name)), td(when(im.created), 'col-phase'), td(bytes(im.disk_size), 'num'),
				td(bytes(im.used), 'num'), td(bytes(im.stored), 'num'),
				td(im.used ? (im.used / Math.max(1, im.stored)).toFixed(1) + '×' : '–', 'num col-rate'),
				td(d ? bytes(d.shared.get(im.name) || 0) : '–', 'num col-rate'),
				td(deployed[i].length ? deployed[i].map((m, j) => [j ? ', ' : '', hostLink(m)]) : 'none yet', 'col-msg'),
				acts);
		})));
		if (!d && list.length)
			listBox.append(h('p.help', session.admin ? 'Dedup savings are computed from the manifests while there are at most ' +
				DEDUP_MAX_IMAGES + ' images.' : 'Dedup savings need an administrator token (they are read from the manifests).'));
	};
	const refresh = refresher(load, 5000);
	load();
	return {
		onEvent(kind, data) {
			if (kind === 'task' && (data.type === 'capture' || data.type === 'deploy') && !['pending', 'booting', 'running'].includes(data.state))
				refresh();
			else if (kind === 'open') refresh();
		},
		destroy() {
			destroyed = true;
			refresh.cancel();
		},
	};
}
