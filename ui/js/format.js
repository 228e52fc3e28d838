// Numbers and times as people read them.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function bytes(n) {
	if (n === null || n === undefined || Number.isNaN(n)) return '–';
	let i = 0;
	let v = Number(n);
	while (Math.abs(v) >= 1024 && i < UNITS.length - 1) {
		v /= 1024;
		i++;
	}
	return (i === 0 ? v.toFixed(0) : v.toFixed(v >= 100 ? 0 : 1)) + ' ' + UNITS[i];
}

export function rate(bytesPerSecond) {
	if (!bytesPerSecond) return '–';
	return bytes(bytesPerSecond) + '/s';
}

// Unix seconds to a local date and time ("–" for 0: never).
export function when(unix) {
	if (!unix) return '–';
	const d = new Date(unix * 1000);
	return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export function timeMs(ms) {
	return new Date(ms).toLocaleTimeString(undefined, { hour12: false }) + '.' +
		String(ms % 1000).padStart(3, '0');
}

// How long ago, from Unix seconds.
export function ago(unix, nowMs = Date.now()) {
	if (!unix) return 'never';
	const s = Math.max(0, Math.round(nowMs / 1000 - unix));
	if (s < 60) return s + ' s ago';
	if (s < 3600) return Math.round(s / 60) + ' min ago';
	if (s < 86400) return Math.round(s / 3600) + ' h ago';
	return Math.round(s / 86400) + ' d ago';
}

export function duration(ms) {
	if (ms < 1000) return Math.round(ms) + ' ms';
	if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
	const m = Math.floor(ms / 60000);
	return m + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
}

export function percent(part, whole) {
	if (!whole) return '–';
	return ((100 * part) / whole).toFixed(1) + '%';
}
