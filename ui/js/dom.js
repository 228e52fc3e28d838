// Small DOM helpers.  Text from the server always goes in as text nodes
// (never innerHTML): hosts' names, agents' messages and DHCP strings come
// from the network.

// h('tag.class#id', {attr: v, onclick: f}, child, ...): an element.
export function h(spec, attrs, ...children) {
	const m = /^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i.exec(spec);
	const el = document.createElement((m && m[1]) || 'div');
	if (m && m[2])
		for (const part of m[2].match(/[.#][\w-]+/g)) {
			if (part[0] === '.') el.classList.add(part.slice(1));
			else el.id = part.slice(1);
		}
	if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
		children.unshift(attrs);
		attrs = null;
	}
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
		else if (k === 'class') el.className = v;
		else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
		else if (k in el && typeof v !== 'string') el[k] = v;
		else el.setAttribute(k, v === true ? '' : v);
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false) continue;
		if (Array.isArray(c)) append(el, c);
		else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
}

// An SVG element with attributes.
export function svg(tag, attrs, ...children) {
	const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
	for (const [k, v] of Object.entries(attrs || {}))
		if (v !== undefined && v !== null) el.setAttribute(k, v);
	for (const c of children.flat())
		if (c !== null && c !== undefined && c !== false)
			el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	return el;
}

export function clear(el) {
	while (el.firstChild) el.removeChild(el.firstChild);
	return el;
}

// A progress bar: a <div role="progressbar"> whose value can be updated in
// place (bar.set(bytes, total)).
export function progressBar(label) {
	const fill = h('div.bar-fill');
	const text = h('span.bar-text');
	const bar = h('div.bar', { role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100',
		'aria-label': label || 'progress' }, fill, text);
	bar.set = (done, total, caption) => {
		const pct = total > 0 ? Math.min(100, Math.max(0, (100 * done) / total)) : 0;
		fill.style.transform = 'scaleX(' + (pct / 100).toFixed(4) + ')';   // no layout: the compositor scales it
		bar.setAttribute('aria-valuenow', pct.toFixed(0));
		bar.dataset.pct = pct.toFixed(1);
		text.textContent = caption !== undefined ? caption : (total > 0 ? pct.toFixed(0) + '%' : '');
	};
	return bar;
}

// A table whose body is filled by rows(); columns: [{title, cls}].
export function table(columns, rows, opts = {}) {
	const head = h('tr', columns.map((c) => h('th', { scope: 'col', class: c.cls || null }, c.title)));
	const body = h('tbody', rows);
	const t = h('table', { class: opts.cls || 'grid' }, opts.caption ? h('caption', opts.caption) : null,
		h('thead', head), body);
	return h('div.table-wrap', t);
}

export function td(content, cls) {
	return h('td', cls ? { class: cls } : null, content);
}

export function empty(text) {
	return h('p.empty', text);
}
