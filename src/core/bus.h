/* The event bus: what happens in pxed, as it happens, for listeners
 * (GET /api/v1/events, pxectl watch, the console).
 *
 * Publishers on any thread (the loop's DHCP and TFTP, the API's threads,
 * multicast senders) append an event -- a kind and a JSON object -- to a
 * bounded ring; each gets the next sequence number.  Readers keep the
 * number of the last event they took and read what follows; an event
 * pushed out of the ring before a slow reader took it is a gap, which the
 * reader is told about.  A notify function (the HTTP server's) is called
 * after every publish so that waiting readers are woken.  Nothing here
 * blocks for long: one mutex, held to copy.  An event of less than
 * BUS_SMALL bytes is copied into the ring itself: publishing it cannot
 * fail for want of memory.  An event that is lost (its JSON could not be
 * made, or a longer one could not be copied) is counted
 * (pxed_api_events_lost_total) and logged at most once a minute. */
#ifndef PXED_CORE_BUS_H
#define PXED_CORE_BUS_H

#include <stddef.h>
#include <stdint.h>

#define BUS_EVENTS 1024                 /* events kept for readers that lag */
#define BUS_KIND_MAX 16
#define BUS_DATA_MAX 8192               /* bytes of one event's JSON: 8 MiB in all at most */
#define BUS_SMALL 256                   /* shorter: kept in the ring (256 KiB), no malloc */

struct bus_event {
	uint64_t seq;                   /* 1, 2, ... */
	char kind[BUS_KIND_MAX];        /* "boot", "task", "mcast", "host", "subnet" */
	char *data;                     /* JSON, malloc'd by bus_read */
	size_t len;
};

/* Append an event (the JSON is copied; longer than BUS_DATA_MAX, or no
 * memory for the copy of one of BUS_SMALL bytes or more: lost, as
 * bus_lost).  Returns its sequence number, or 0 when lost. */
uint64_t bus_publish(const char *kind, const char *json, size_t len);
/* An event of kind that could not be published (its JSON could not be
 * made): counted and logged, at most a line a minute. */
void bus_lost(const char *kind);
/* The first event after seq into *out (free out->data): 1 when there is
 * one, 0 when none yet, -1 when events after seq were lost (the oldest kept
 * follows then: *out is filled, and *gap tells how many were lost). */
int bus_read(uint64_t after, struct bus_event *out, uint64_t *gap);
/* The last sequence number given out (0: none yet). */
uint64_t bus_last(void);
/* fn(arg) after each publish, on the publisher's thread; one at a time
 * (NULL to stop).  It must not publish. */
void bus_set_notify(void (*fn)(void *arg), void *arg);

/* A boot timeline event as the bus carries it. */
void bus_publish_boot(const uint8_t *mac, size_t mac_len, const char *kind,
    const char *detail, int64_t when_ms);

#endif
