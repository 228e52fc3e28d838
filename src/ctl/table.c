/* pxectl's tables: every column as wide as its widest cell (in terminal
 * columns, so names in any script line up), numbers aligned right. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uniwidth.h>

#include "ctl/ctl.h"

void
ctl_table_begin(struct ctl_table *t, size_t cols, const char *const heads[])
{
	memset(t, 0, sizeof *t);
	t->cols = cols < CTL_TABLE_COLS ? cols : CTL_TABLE_COLS;
	for (size_t i = 0; i < t->cols; i++) {
		t->right[i] = heads[i][0] == '>';
		t->head[i] = heads[i] + (t->right[i] ? 1 : 0);
	}
}

void
ctl_table_add(struct ctl_table *t, const char *const cells[])
{
	if (t->oom)
		return;
	if (t->rows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		char **grown = realloc(t->cell, cap * t->cols * sizeof *grown);
		if (grown == NULL) {
			t->oom = true;
			return;
		}
		t->cell = grown;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->cols; i++) {
		char *c = strdup(cells[i] != NULL ? cells[i] : "");
		if (c == NULL)
			t->oom = true;
		t->cell[t->rows * t->cols + i] = c;
	}
	t->rows++;
}

static size_t
width_of(const char *s)
{
	int w = u8_strwidth((const uint8_t *)s, "UTF-8");

	return w > 0 ? (size_t)w : 0;
}

static void
print_row(const struct ctl_table *t, const char *indent, const char *const *row,
    const size_t *w)
{
	size_t end = t->cols;

	while (end > 1 && row[end - 1][0] == '\0')      /* no trailing blanks */
		end--;
	fputs(indent, stdout);
	for (size_t i = 0; i < end; i++) {
		size_t pad = w[i] - width_of(row[i]);
		bool last = i + 1 == end;
		if (t->right[i])
			printf("%*s%s", (int)pad, "", row[i]);
		else
			printf("%s%*s", row[i], last ? 0 : (int)pad, "");
		if (!last)
			fputs("  ", stdout);
	}
	fputc('\n', stdout);
}

void
ctl_table_print(struct ctl_table *t, const char *indent)
{
	size_t w[CTL_TABLE_COLS] = { 0 };

	if (t->oom) {
		fprintf(stderr, "pxectl: out of memory\n");
	} else {
		for (size_t i = 0; i < t->cols; i++)
			w[i] = width_of(t->head[i]);
		for (size_t r = 0; r < t->rows; r++)
			for (size_t i = 0; i < t->cols; i++) {
				size_t cw = width_of(t->cell[r * t->cols + i]);
				w[i] = cw > w[i] ? cw : w[i];
			}
		print_row(t, indent, t->head, w);
		for (size_t r = 0; r < t->rows; r++)
			print_row(t, indent, (const char *const *)&t->cell[r * t->cols], w);
	}
	ctl_table_free(t);
}

void
ctl_table_free(struct ctl_table *t)
{
	for (size_t r = 0; r < t->rows; r++)
		for (size_t i = 0; i < t->cols; i++)
			free(t->cell[r * t->cols + i]);
	free(t->cell);
	memset(t, 0, sizeof *t);
}

const char *
ctl_size(int64_t bytes, char *out, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1024;
		u++;
	}
	snprintf(out, size, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
	return out;
}

const char *
ctl_rate(int64_t bytes_per_s, char *out, size_t size)
{
	char s[32];

	snprintf(out, size, "%s/s", ctl_size(bytes_per_s, s, sizeof s));
	return out;
}

const char *
ctl_when(int64_t unix_s, char *out, size_t size)
{
	time_t tt = (time_t)unix_s;
	struct tm tm;

	if (unix_s <= 0) {
		snprintf(out, size, "-");
		return out;
	}
	localtime_r(&tt, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
	return out;
}

const char *
ctl_duration(int64_t ms, char *out, size_t size)
{
	int64_t s = ms / 1000;

	if (ms < 60000)
		snprintf(out, size, "%.1f s", (double)ms / 1000);
	else if (s < 3600)
		snprintf(out, size, "%lld min %lld s", (long long)(s / 60), (long long)(s % 60));
	else if (s < 86400)
		snprintf(out, size, "%lld h %02lld min", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(out, size, "%lld d %lld h", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	return out;
}
