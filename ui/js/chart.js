// Boots and failures per hour as SVG bars (no library: a few dozen rects).

import { svg } from './dom.js';

export function hourlyChart(hours, widthPx) {
	const height = 180;
	const padL = 36;
	const padB = 28;
	const padT = 10;
	const plotW = Math.max(100, widthPx - padL - 8);
	const plotH = height - padB - padT;
	const max = Math.max(1, ...hours.map((x) => x.boots + x.failures));
	const step = plotW / Math.max(1, hours.length);
	const bw = Math.max(2, step * 0.7);
	const total = hours.reduce((a, x) => [a[0] + x.boots, a[1] + x.failures], [0, 0]);
	const root = svg('svg', { class: 'chart', viewBox: `0 0 ${widthPx} ${height}`, width: widthPx, height, role: 'img',
		'aria-label': `boots per hour over ${hours.length} hours: ${total[0]} boots, ${total[1]} failures` });
	const y = (v) => padT + plotH - (v / max) * plotH;
	// the scale: 0, half and the maximum
	for (const v of [0, Math.round(max / 2), max]) {
		root.append(svg('line', { x1: padL, x2: padL + plotW, y1: y(v), y2: y(v), class: 'gridline' }),
			svg('text', { x: padL - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, String(v)));
	}
	const every = Math.ceil(hours.length / Math.max(1, Math.floor(plotW / 48)));
	hours.forEach((hr, i) => {
		const x = padL + i * step + (step - bw) / 2;
		const label = new Date(hr.start * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
		const g = svg('g', { class: 'hour' },
			svg('title', {}, `${label}: ${hr.boots} boots, ${hr.failures} failures`));
		const ok = Math.max(0, hr.boots - hr.failures);
		g.append(svg('rect', { x, y: y(ok), width: bw, height: Math.max(0, plotH - (y(ok) - padT)), class: 'boots' }));
		if (hr.failures > 0)
			g.append(svg('rect', { x, y: y(ok + hr.failures), width: bw, height: y(ok) - y(ok + hr.failures), class: 'failures' }));
		root.append(g);
		if (i % every === 0)
			root.append(svg('text', { x: x + bw / 2, y: height - 10, 'text-anchor': 'middle', class: 'tick' }, label));
	});
	return root;
}
