// What the boot timeline's events mean: the stage of a boot each belongs
// to, which ones are failures and why, and how a list of events splits
// into boots.

export const STAGES = [
	['dhcp', 'DHCP'],
	['bootfile', 'Boot file'],
	['script', 'Boot script'],
	['bootenv', 'Imaging environment'],
	['task', 'Task'],
];

const FAILURES = {
	'dhcp-nak': 'pxed refused the address the machine asked for (DHCPNAK): its lease is gone or it moved ' +
		'to another subnet. The machine starts again with a DISCOVER.',
	'dhcp-no-address': 'pxed had no address to offer this machine: the pool is full, or the machine has ' +
		'no reservation where only reservations are served.',
	'dhcp-decline': 'the machine found the address it was offered already in use (its ARP check) and ' +
		'declined it; pxed keeps that address aside for a while.',
	'tftp-failed': 'the boot file did not arrive over TFTP: the file is missing or unreadable, the ' +
		'machine stopped answering, or too many transfers ran at once.',
	'http-aborted': 'an HTTP download stopped before its end: the machine gave up or the link broke.',
	'task-failed': 'the imaging agent ran the task and reported a failure.',
	'task-token-refused': 'a request with this machine\'s task token (its boot script, or the agent) ' +
		'came from another address than the one the token is bound to: refused. Another machine ' +
		'fetched this one\'s script, or this machine\'s address changed (task-token-bind).',
};

export function isFailure(kind) {
	return Object.prototype.hasOwnProperty.call(FAILURES, kind);
}

export function explain(kind) {
	return FAILURES[kind] || '';
}

export function stageOf(ev) {
	const k = ev.kind;
	if (k.startsWith('dhcp-') || k === 'proxy-offer' || k === 'pxe-ack') return 'dhcp';
	if (k.startsWith('tftp-')) return 'bootfile';
	if (k === 'boot-script') return 'script';
	if (k.startsWith('http-')) return /(^|\/)bootenv\//.test(ev.detail || '') ? 'bootenv' : 'bootfile';
	if (k.startsWith('task-')) return 'task';
	return 'dhcp';
}

// The end of a boot: its task ended, or a script sent it to its local disk.
function ends(ev) {
	return ev.kind === 'task-done' || ev.kind === 'task-failed' ||
		(ev.kind === 'boot-script' && /local \(done\)/.test(ev.detail || ''));
}

const GAP_MS = 10 * 60 * 1000;

// Events (oldest first) split into boots: a new one begins after the end
// of the last, or after ten minutes of silence.
export function splitBoots(events) {
	const boots = [];
	let cur = null;
	let prev = null;
	for (const ev of events) {
		if (!cur || (prev && (ends(prev) || ev.time_ms - prev.time_ms > GAP_MS))) {
			cur = [];
			boots.push(cur);
		}
		cur.push(ev);
		prev = ev;
	}
	return boots;
}

// Where a machine is in its boot, from its latest event: {stage, failed, done}.
export function whereIs(ev) {
	return {
		stage: ev.kind === 'task-done' ? 'task' : stageOf(ev),
		failed: isFailure(ev.kind),
		done: ev.kind === 'task-done' || (ev.kind === 'boot-script' && /local \(done\)/.test(ev.detail || '')),
	};
}

// The task id an event's detail names ("task 7: ..."), or null.
export function taskOf(ev) {
	const m = /^task (\d+)\b/.exec(ev.detail || '');
	return m ? +m[1] : null;
}

// A compact step indicator: one box per stage, the current one marked.
export function stageIndex(stage) {
	return STAGES.findIndex(([id]) => id === stage);
}
