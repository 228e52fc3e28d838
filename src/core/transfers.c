#include "core/transfers.h"

#include <pthread.h>
#include <string.h>

#include "core/util.h"

static pthread_mutex_t board_lock = PTHREAD_MUTEX_INITIALIZER;
static struct transfer_info board[TRANSFERS_MAX];
static size_t board_count, board_total;
static uint64_t board_at_us;

void
transfers_publish(const struct transfer_info *list, size_t n, size_t total, uint64_t now_us)
{
	n = MIN(n, (size_t)TRANSFERS_MAX);
	pthread_mutex_lock(&board_lock);
	memcpy(board, list, n * sizeof *list);
	board_count = n;
	board_total = MAX(total, n);
	board_at_us = now_us;
	pthread_mutex_unlock(&board_lock);
}

size_t
transfers_read(struct transfer_info *out, size_t max, size_t *total, uint64_t *at_us)
{
	pthread_mutex_lock(&board_lock);
	size_t n = MIN(max, board_count);
	memcpy(out, board, n * sizeof *out);
	*total = board_total;
	*at_us = board_at_us;
	pthread_mutex_unlock(&board_lock);
	return n;
}
