// The console: login, navigation, the live indicator, and the page of the
// location's hash (#/hosts, #/hosts/MAC, #/timeline/MAC, ...).

import { api, login, logout, restore, session } from './api.js';
import { h, clear } from './dom.js';
import * as events from './events.js';
import dashboard from './pages/dashboard.js';
import hosts from './pages/hosts.js';
import host from './pages/host.js';
import timeline from './pages/timeline.js';
import images from './pages/images.js';
import tasks from './pages/tasks.js';
import settings from './pages/settings.js';

const ROUTES = [
	[/^#\/?$|^#\/dashboard$/, dashboard, 'dashboard'],
	[/^#\/hosts$/, hosts, 'hosts'],
	[/^#\/hosts\/([^/]+)$/, host, 'hosts'],
	[/^#\/timeline\/([^/]+)$/, timeline, 'hosts'],
	[/^#\/images$/, images, 'images'],
	[/^#\/tasks$/, tasks, 'tasks'],
	[/^#\/settings$/, settings, 'settings'],
];
const NAV = [['dashboard', 'Dashboard'], ['hosts', 'Hosts'], ['images', 'Images'],
	['tasks', 'Tasks'], ['settings', 'Settings']];

const app = document.getElementById('app');
let current = null;         // the page shown: {destroy, onEvent}
let unsubscribe = null;

function liveText(mode) {
	return { live: 'live', polling: 'polling', reconnecting: 'reconnecting…', off: 'offline' }[mode] || mode;
}

function shell() {
	const status = h('span.live#live', { role: 'status', title: 'how this page is kept up to date' });
	const setLive = (mode) => {
		status.textContent = liveText(mode);
		status.dataset.mode = mode;
	};
	setLive(events.live.mode);
	events.live.onmode = setLive;
	const nav = h('nav.nav', { 'aria-label': 'pages' },
		NAV.map(([id, title]) => h('a', { href: '#/' + id, 'data-nav': id }, title)));
	const out = h('button.link#logout', { type: 'button', onclick: signOut }, 'Sign out');
	const header = h('header.top',
		h('a.skip', { href: '#main' }, 'Skip to content'),
		h('span.brand', 'pxed'), nav,
		h('span.who', session.admin ? 'admin' : 'read-only'), status, out);
	const main = h('main#main', { tabindex: '-1' });
	clear(app).append(header, main);
	return main;
}

function signOut() {
	events.stop();
	logout();
	showLogin('Signed out.');
}

function showLogin(message) {
	if (current && current.destroy) current.destroy();
	current = null;
	if (unsubscribe) unsubscribe();
	unsubscribe = null;
	const input = h('input#token', { type: 'password', name: 'token', autocomplete: 'off',
		required: true, spellcheck: false, 'aria-describedby': 'token-help' });
	const note = h('p.note#login-msg', { role: 'alert' }, message || '');
	const form = h('form.login#login', {
		onsubmit: async (ev) => {
			ev.preventDefault();
			note.textContent = 'Checking…';
			try {
				await login(input.value.trim());
				location.hash = location.hash && location.hash !== '#/login' ? location.hash : '#/dashboard';
				startApp();
			} catch (e) {
				note.textContent = e.status === 401 ? 'This token was refused.' : 'Cannot sign in: ' + e.message;
			}
		},
	},
	h('h1', 'pxed console'),
	h('label', { for: 'token' }, 'API token'),
	input,
	h('p.help#token-help', 'An administrator token (state-dir/api-token) can change things; a read token can look. ' +
		'The token is kept in this tab only.'),
	h('button.primary', { type: 'submit' }, 'Sign in'),
	note);
	clear(app).append(h('main.login-wrap#main', form));
	input.focus();
}

function route() {
	const hash = location.hash || '#/dashboard';
	for (const [re, page, nav] of ROUTES) {
		const m = re.exec(hash);
		if (!m) continue;
		return { page, nav, args: m.slice(1).map(decodeURIComponent) };
	}
	return null;
}

let main = null;

function show() {
	if (!session.token) return showLogin();
	if (current && current.destroy) current.destroy();
	current = null;
	const r = route();
	for (const a of document.querySelectorAll('[data-nav]'))
		a.setAttribute('aria-current', r && a.dataset.nav === r.nav ? 'page' : 'false');
	clear(main);
	if (!r) {
		main.append(h('h1', 'Not found'), h('p', 'No page here. ', h('a', { href: '#/dashboard' }, 'Dashboard')));
		return;
	}
	current = r.page(main, ...r.args) || {};
}

function startApp() {
	main = shell();
	session.onUnauthorized = (msg) => {
		events.stop();
		logout();
		showLogin('Signed out: ' + msg);
	};
	if (unsubscribe) unsubscribe();
	unsubscribe = events.subscribe((kind, data, id) => {
		if (current && current.onEvent) current.onEvent(kind, data, id);
	});
	events.start();
	show();
}

window.addEventListener('hashchange', () => {
	if (session.token && main) show();
});

if (restore()) startApp();
else showLogin();

// for the browser tests and the bench: how many events arrived, the
// stream's mode, and a way to hand the page events
window.pxedConsole = { live: events.live, api, inject: events.inject };
