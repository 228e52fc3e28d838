// A machine's boot drawn as a time line: from its first DHCP packet to
// the end of its task, each stage on its own lane, the step that failed
// marked and explained.

import { api } from '../api.js';
import { h, svg, clear } from '../dom.js';
import { duration, timeMs } from '../format.js';
import { STAGES, explain, isFailure, splitBoots, stageOf, taskOf } from '../boot.js';
import { errorText, hostLink, refresher } from './common.js';

const LANE_H = 36;
const TOP = 12;
const AXIS_H = 34;

// Gaps are drawn on a log scale: DHCP's milliseconds and a deploy's
// minutes both stay readable.  Returns x per event in [0, width].
function positions(events, width) {
	const xs = [0];
	for (let i = 1; i < events.length; i++) {
		const gap = Math.max(0, events[i].time_ms - events[i - 1].time_ms);
		xs.push(xs[i - 1] + 0.35 + Math.log10(1 + gap / 5));
	}
	const max = xs[xs.length - 1] || 1;
	return xs.map((x) => (x / max) * width);
}

function laneOf(ev) {
	return STAGES.findIndex(([id]) => id === stageOf(ev));
}

export function drawTimeline(events, widthPx) {
	const narrow = widthPx < 560;
	const labelW = narrow ? 58 : 150;
	const padR = 16;
	const plotW = Math.max(120, widthPx - labelW - padR);
	const height = TOP + STAGES.length * LANE_H + AXIS_H;
	const xs = positions(events, plotW).map((x) => x + labelW);
	const root = svg('svg', { class: 'timeline', viewBox: `0 0 ${widthPx} ${height}`, width: widthPx, height,
		role: 'img', 'aria-label': 'boot timeline, ' + events.length + ' events' });
	const laneY = (i) => TOP + i * LANE_H + LANE_H / 2;
	STAGES.forEach(([id, title], i) => {
		root.append(svg('line', { x1: labelW, x2: labelW + plotW, y1: laneY(i), y2: laneY(i), class: 'lane' }),
			svg('text', { x: 4, y: laneY(i) + 4, class: 'lane-label' },
				narrow ? { dhcp: 'DHCP', bootfile: 'File', script: 'Script', bootenv: 'Env', task: 'Task' }[id] : title));
	});
	// each lane's span: from its first event to its last
	const span = new Map();
	events.forEach((ev, i) => {
		const l = laneOf(ev);
		const s = span.get(l) || { from: xs[i], to: xs[i], failed: false };
		s.to = xs[i];
		s.failed = s.failed || isFailure(ev.kind);
		span.set(l, s);
	});
	for (const [l, s] of span)
		root.append(svg('line', { x1: s.from, x2: Math.max(s.to, s.from + 2), y1: laneY(l), y2: laneY(l),
			class: s.failed ? 'span failed' : 'span' }));
	const t0 = events[0].time_ms;
	events.forEach((ev, i) => {
		const y = laneY(laneOf(ev));
		const failed = isFailure(ev.kind);
		const title = svg('title', {}, `${ev.kind} +${duration(ev.time_ms - t0)}: ${ev.detail}`);
		if (failed) {
			root.append(svg('g', { class: 'event failed', 'data-kind': ev.kind },
				svg('circle', { cx: xs[i], cy: y, r: 9 }),
				svg('path', { d: `M${xs[i] - 4} ${y - 4}L${xs[i] + 4} ${y + 4}M${xs[i] + 4} ${y - 4}L${xs[i] - 4} ${y + 4}` }),
				title));
			root.append(svg('text', { x: Math.min(xs[i], labelW + plotW - 4), y: y - 13, class: 'fail-label',
				'text-anchor': xs[i] > labelW + plotW / 2 ? 'end' : 'start' }, 'failed: ' + ev.kind));
		} else {
			root.append(svg('circle', { cx: xs[i], cy: y, r: 5, class: 'event', 'data-kind': ev.kind }, title));
		}
	});
	// the axis: time since the first event, at the first event of each
	// stage and at the last, where there is room
	const axisY = TOP + STAGES.length * LANE_H + 8;
	root.append(svg('line', { x1: labelW, x2: labelW + plotW, y1: axisY, y2: axisY, class: 'axis' }));
	let lastX = -1e9;
	const seen = new Set();
	events.forEach((ev, i) => {
		const l = laneOf(ev);
		const key = i === events.length - 1 ? 'end' : l;
		if (seen.has(key) || xs[i] - lastX < (narrow ? 44 : 64)) return;
		seen.add(key);
		lastX = xs[i];
		root.append(svg('line', { x1: xs[i], x2: xs[i], y1: axisY, y2: axisY + 5, class: 'axis' }),
			svg('text', { x: xs[i], y: axisY + 18, class: 'tick',
				'text-anchor': i === 0 ? 'start' : key === 'end' ? 'end' : 'middle' },
				i === 0 ? timeMs(ev.time_ms).slice(0, 8) : '+' + duration(ev.time_ms - t0)));
	});
	return root;
}

function bootLabel(boot, i) {
	const failed = boot.find((e) => isFailure(e.kind));
	return `Boot ${i + 1}: ${new Date(boot[0].time_ms).toLocaleString()} (${boot.length} events${failed ? ', failed' : ''})`;
}

const ended = new Map();     // task id -> the task (an ended task no longer changes)

async function failurePanel(ev) {
	const box = h('div.failure#failure', { role: 'note', 'aria-label': 'the step that failed' },
		h('h3', 'Failed step: ', h('code', ev.kind)),
		h('p', explain(ev.kind)),
		h('p', 'pxed recorded: ', h('q', ev.detail || '(nothing)')));
	const id = taskOf(ev);
	if (ev.kind === 'task-failed' && id) {
		try {
			const t = ended.get(id) || await api('tasks/' + id);
			if (!['pending', 'booting', 'running'].includes(t.state)) ended.set(id, t);
			box.append(h('p', `Task #${t.id} (${t.type}${t.image ? ' ' + t.image : ''}) ended ${t.state}` +
				(t.phase ? ` in its ${t.phase} phase` : '') + ': ', h('strong', t.message || 'no message')));
			if (t.log) box.append(h('details', h('summary', 'The agent\'s log (last lines)'), h('pre.log', t.log)));
		} catch (e) {
			box.append(h('p', 'Task #' + id + ': ' + e.message));
		}
	}
	return box;
}

export default function timeline(root, mac) {
	const head = h('div.page-head', h('h1', 'Boot timeline'), h('p.sub', hostLink(mac)));
	const picker = h('div.boot-pick');
	const chart = h('div.timeline-wrap');
	const explainBox = h('div');
	const list = h('div');
	root.append(head, picker, chart, explainBox, list);
	let events = [];
	let chosen = -1;        // -1: the latest boot
	let destroyed = false;

	let generation = 0;
	const render = async () => {
		const boots = splitBoots(events);
		if (boots.length === 0) return;
		const gen = ++generation;
		const idx = chosen < 0 || chosen >= boots.length ? boots.length - 1 : chosen;
		const boot = boots[idx];
		const failed = boot.find((e) => isFailure(e.kind));
		// the panel first (it may ask for the task): a newer render wins
		const panel = failed ? await failurePanel(failed) : null;
		if (gen !== generation || destroyed) return;
		clear(picker);
		if (boots.length > 1) {
			const sel = h('select#boot-select', { 'aria-label': 'which boot',
				onchange: () => { chosen = +sel.value; render(); } },
			boots.map((b, i) => h('option', { value: String(i), selected: i === idx }, bootLabel(b, i))));
			picker.append(h('label', { for: 'boot-select' }, 'Boot '), sel);
		}
		const t0 = boot[0].time_ms;
		const last = boot[boot.length - 1];
		clear(chart).append(
			h('p.summary', `${boot.length} events over ${duration(last.time_ms - t0)}; ` +
				(failed ? 'failed at ' + failed.kind : 'last: ' + last.kind) + '. Gaps are drawn on a log scale.'),
			drawTimeline(boot, Math.max(300, chart.clientWidth || root.clientWidth || 800)));
		const rows = boot.map((ev) => h('li', { class: isFailure(ev.kind) ? 'failed' : null, 'data-kind': ev.kind },
			h('span.when', '+' + duration(ev.time_ms - t0)), ' ',
			h('span.kind', ev.kind), ' ', h('span.detail', ev.detail || ''),
			isFailure(ev.kind) ? h('span.sr', ' (the step that failed)') : null));
		clear(list).append(h('h2', 'Events'), h('ol.events', rows));
		clear(explainBox);
		if (panel) explainBox.append(panel);
	};

	const load = async () => {
		try {
			const data = await api('clients/' + encodeURIComponent(mac));
			if (destroyed) return;
			// by time: pxed's loop writes its DHCP and TFTP events in batches,
			// so they may be stored after the API's own of the same moment
			events = (data.events || []).map((e, i) => [e, i])
				.sort((a, b) => a[0].time_ms - b[0].time_ms || a[1] - b[1]).map(([e]) => e);
			await render();
		} catch (e) {
			if (destroyed) return;
			clear(chart).append(e.status === 404 ? h('p.empty', 'pxed has seen no boot of ' + mac + '.') : errorText(e));
		}
	};
	const refresh = refresher(load, 1000);
	const onResize = refresher(render, 200);
	window.addEventListener('resize', onResize);
	load();
	return {
		onEvent(kind, data) {
			if (kind === 'boot' && data.mac && data.mac.toLowerCase() === mac.toLowerCase()) {
				events.push({ time_ms: data.time_ms, kind: data.kind, detail: data.detail });
				onResize();
			} else if (kind === 'poll' || kind === 'open') {
				refresh();
			}
		},
		destroy() {
			destroyed = true;
			refresh.cancel();
			window.removeEventListener('resize', onResize);
		},
	};
}
