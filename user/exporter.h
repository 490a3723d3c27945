/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * exporter.h - Prometheus text exposition (format 0.0.4) and the HTTP server for it.
 *
 * The poll loop renders the page after each poll and publishes it; the HTTP thread
 * only hands out the latest published page. A slow or hostile client therefore never
 * holds up a poll, and a scrape never sees a half-updated set of counters. A response
 * keeps its page until it is sent; at most 4 pages are kept so (exporter.c), the
 * readers of older ones are cut, so slow readers hold at most 4 pages of memory.
 */
#ifndef PW_EXPORTER_H
#define PW_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "poller.h"
#include "prefixwatch.h"

struct pw_buf {
	char *data;
	size_t len, cap;
	bool oom;
};

void pw_buf_printf(struct pw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pw_buf_free(struct pw_buf *b);

struct pw_iface_state {
	char name[16];
	unsigned int ifindex;
	bool attached;
	const char *mode; /* "native" or "skb" while attached */
	struct pw_counter c;
};

struct pw_export_input {
	const struct pw_poller *pl;
	struct pw_counter classes[PW_CLASS_MAX];
	const struct pw_iface_state *ifaces;
	size_t n_ifaces;
	uint64_t reloads_ok, reloads_failed;
	double last_reload_ok; /* Unix seconds */
	double poll_seconds;   /* duration of the last poll */
	uint64_t polls;	       /* polls since start */
	/* Optional: more families (the detectors'), appended to the page. */
	void (*extra)(void *ctx, struct pw_buf *out);
	void *extra_ctx;
};

/* Render the whole /metrics page into @out (appending). */
void pw_render_metrics(const struct pw_export_input *in, struct pw_buf *out);

/* Write @s as a label value: backslash, double quote and newline escaped. */
void pw_buf_label(struct pw_buf *b, const char *s);

struct pw_http;
struct pw_web;

/* A request for a page other than /metrics, and its query arguments. */
struct pw_http_req {
	const char *url;
	void *conn;
};

/* The value of query argument @key of @req, or NULL. */
const char *pw_http_arg(const struct pw_http_req *req, const char *key);

/*
 * Renders a page other than /metrics into @out, in libmicrohttpd's thread: returns the
 * HTTP status (200, 400, 404, ...) and sets *@ctype.
 */
typedef int (*pw_http_handler)(void *ctx, const struct pw_http_req *req, struct pw_buf *out,
			       const char **ctype);

struct pw_http_opts {
	struct pw_web *web;       /* TLS and basic auth (webcfg.h), or NULL: plain HTTP */
	pw_http_handler handler;  /* the other pages, or NULL: a landing page at / */
	void *handler_ctx;
};

/* Listen on "host:port"; 0, or -1 with a reason in @err. */
int pw_http_start(const char *listen, struct pw_http **out, char *err, size_t errlen);
/* The same, with TLS, basic auth and the other pages as @opts says (may be NULL). */
int pw_http_start_opts(const char *listen, const struct pw_http_opts *opts, struct pw_http **out,
		       char *err, size_t errlen);
/* Make @page what GET /metrics returns from now on; takes ownership of its data. */
void pw_http_publish(struct pw_http *h, struct pw_buf *page);
void pw_http_stop(struct pw_http *h);

#endif /* PW_EXPORTER_H */
