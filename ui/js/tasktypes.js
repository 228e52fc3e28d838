// The task types the console offers, and what each takes (docs/API.md,
// POST /api/v1/tasks).  Options the table does not know go in the form's
// "more options" JSON field, so every type and option the API takes can
// be sent; pxed answers 400 for one it does not take.

export const TASK_TYPES = [
	{ type: 'deploy', title: 'Deploy an image', image: 'pick', verify: true, after: true,
		options: [['no_grow', 'bool', 'keep the last partition at its size']] },
	{ type: 'capture', title: 'Capture into an image', image: 'name', replace: true, after: true,
		options: [['outside_partitions', 'bool', 'capture free space outside the partitions'],
			['raw_encrypted', 'bool', 'capture a BitLocker partition whole']] },
	{ type: 'wipe', title: 'Wipe the disks', after: true,
		options: [['level', 'text', 'fast, zero, random or sanitize']] },
	{ type: 'shell', title: 'Imaging environment shell' },
	{ type: 'local', title: 'Boot the local disk once' },
	{ type: 'scan', title: 'Malware scan', after: true, options: [['quarantine', 'bool', 'move what is found to quarantine']] },
	{ type: 'reset-password', title: 'Reset a Windows password', after: true,
		options: [['user', 'text', 'account'], ['list', 'bool', 'only list the accounts'],
			['unlock', 'bool', 'unlock the account'], ['enable', 'bool', 'enable the account'],
			['windows', 'text', 'which Windows installation']] },
	{ type: 'restore', title: 'Restore quarantined files', after: true, options: [['of', 'number', 'scan task id']] },
	{ type: 'diagnose', title: 'Diagnose the hardware', after: true,
		options: [['tests', 'text', 'tests, split by commas (default: all but disk-write)'],
			['destructive', 'bool', 'allow disk-write (it overwrites every disk)'],
			['duration', 'number', 'seconds of memory, cpu, network'],
			['memory_mb', 'number', 'MiB of memory to test']] },
	{ type: 'boot', title: 'Boot an environment once', options: [['environment', 'text', 'its name']] },
];

export const AFTER = ['reboot', 'poweroff', 'shell'];
