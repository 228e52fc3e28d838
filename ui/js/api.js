// The REST API (docs/API.md) with the token of this browser session.
//
// The token lives in sessionStorage: it is gone when the tab is closed,
// and it never goes into a URL (URLs end up in logs and history).

const KEY = 'pxed-token';

export class ApiError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

export const session = {
	get token() { return sessionStorage.getItem(KEY) || ''; },
	set token(t) {
		if (t) sessionStorage.setItem(KEY, t);
		else sessionStorage.removeItem(KEY);
	},
	admin: false,   // set at login: may this token change things?
	onUnauthorized: null,
};

function headers(extra) {
	const hd = Object.assign({ Accept: 'application/json' }, extra || {});
	if (session.token) hd.Authorization = 'Bearer ' + session.token;
	return hd;
}

// api(path, {method, body}): the parsed JSON answer (null for 204);
// throws ApiError with the server's {"error"} text otherwise.
export async function api(path, opts = {}) {
	const init = { method: opts.method || 'GET', headers: headers(), cache: 'no-store' };
	if (opts.body !== undefined) {
		init.body = JSON.stringify(opts.body);
		init.headers['Content-Type'] = 'application/json';
	}
	if (opts.signal) init.signal = opts.signal;
	const res = await fetch('/api/v1/' + path, init);
	if (res.status === 204) return null;
	let data = null;
	const text = await res.text();
	try {
		data = text ? JSON.parse(text) : null;
	} catch (e) {
		data = null;
	}
	if (!res.ok) {
		const msg = (data && data.error) || res.status + ' ' + res.statusText;
		if (res.status === 401 && !opts.probe && session.onUnauthorized) session.onUnauthorized(msg);
		throw new ApiError(res.status, msg);
	}
	return data;
}

// An endpoint this pxed does not have yet answers 404 "not found" from
// the router: optional(path) gives null for it instead of throwing.
export async function optional(path) {
	try {
		return await api(path);
	} catch (e) {
		if (e.status === 404 || e.status === 405) return null;
		throw e;
	}
}

// Check a token: it must read (a read token's least: one host), and a
// GET only an administrator's token may make tells whether it is one
// (403 for a read token).
export async function login(token) {
	const before = session.token;
	session.token = token;
	try {
		await api('hosts?limit=1', { probe: true });
		try {
			await api('tokens', { probe: true });
			session.admin = true;
		} catch (e) {
			if (e.status !== 403 && e.status !== 401) throw e;
			session.admin = false;
		}
		sessionStorage.setItem(KEY + '-admin', session.admin ? '1' : '0');
	} catch (e) {
		session.token = before;
		throw e;
	}
}

export function restore() {
	session.admin = sessionStorage.getItem(KEY + '-admin') === '1';
	return !!session.token;
}

export function logout() {
	session.token = '';
	sessionStorage.removeItem(KEY + '-admin');
	session.admin = false;
}

function query(params) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params))
		if (v !== undefined && v !== null && v !== '') q.set(k, v);
	const s = q.toString();
	return s ? '?' + s : '';
}

// One page of a list: {items, total, next}.  Filters the server does not
// know are applied here too (a pxed that ignores ?q= or ?state= still
// shows only what was asked for, from the page it sent).
export async function page(resource, params, match) {
	const data = await api(resource + query(params));
	let items = data[resource] || [];
	if (match) items = items.filter(match);
	return { items, total: data.total, next: data.next };
}

export { query };
