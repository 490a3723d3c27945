// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* exporter.c - Prometheus text exposition and its HTTP server (libmicrohttpd). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/libbpf.h>
#include <microhttpd.h>

#include "exporter.h"
#include "webcfg.h"

#ifndef PW_VERSION
#define PW_VERSION "dev"
#endif

void pw_buf_printf(struct pw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->data ? b->data + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 4096;
			char *d;

			while (cap < b->len + (size_t)n + 1)
				cap *= 2;
			d = realloc(b->data, cap);
			if (!d) {
				b->oom = true;
				return;
			}
			b->data = d;
			b->cap = cap;
		}
	}
}

void pw_buf_free(struct pw_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void pw_buf_label(struct pw_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			pw_buf_printf(b, "\\\\");
		else if (*s == '"')
			pw_buf_printf(b, "\\\"");
		else if (*s == '\n')
			pw_buf_printf(b, "\\n");
		else
			pw_buf_printf(b, "%c", *s);
	}
}

static void family(struct pw_buf *b, const char *name, const char *type, const char *help)
{
	pw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prefix_series(struct pw_buf *b, const struct pw_poller *pl, bool bytes)
{
	const char *name = bytes ? "prefixwatch_prefix_bytes_total" : "prefixwatch_prefix_packets_total";
	char txt[PW_PREFIX_STRLEN];

	family(b, name, "counter",
	       bytes ? "Bytes (whole frames, in bytes) to a configured prefix, more specifics included."
		     : "Packets (a count) to a configured prefix, more specifics included.");
	for (size_t g = 0; g < pl->n_groups; g++) {
		const struct pw_gview *gv = &pl->g[g];

		if (gv->cfg->export != PW_EXPORT_PREFIX)
			continue;
		for (size_t k = 0; k < gv->n_members; k++) {
			const struct pw_pentry *e = &pl->p[gv->members[k]];

			pw_buf_printf(b, "%s{group=\"%s\",prefix=\"%s\"} %llu\n", name, gv->cfg->name,
				      pw_prefix_format(&e->pfx, txt, sizeof(txt)),
				      (unsigned long long)(bytes ? e->in.bytes : e->in.packets));
		}
	}
}

void pw_render_metrics(const struct pw_export_input *in, struct pw_buf *b)
{
	static const char *const fam[2] = { "ipv4", "ipv6" };
	const struct pw_poller *pl = in->pl;
	size_t nfam[2] = { 0, 0 };

	family(b, "prefixwatch_build_info", "gauge",
	       "Always 1; the labels name the versions of prefixwatch and of the libraries it runs with.");
	pw_buf_printf(b, "prefixwatch_build_info{version=\"%s\",libbpf=\"%s\",libmicrohttpd=\"%s\"} 1\n",
		      PW_VERSION, libbpf_version_string(), MHD_get_version());

	for (size_t i = 0; pl && i < pl->n; i++)
		nfam[pl->p[i].pfx.family == AF_INET6]++;
	family(b, "prefixwatch_prefixes", "gauge", "Distinct configured prefixes, per family (a count of prefixes).");
	for (int f = 0; f < 2; f++)
		pw_buf_printf(b, "prefixwatch_prefixes{family=\"%s\"} %zu\n", fam[f], nfam[f]);

	if (pl) {
		prefix_series(b, pl, false);
		prefix_series(b, pl, true);
		family(b, "prefixwatch_group_packets_total", "counter",
		       "Packets (a count) to any prefix of a group, each packet once.");
		for (size_t g = 0; g < pl->n_groups; g++)
			pw_buf_printf(b, "prefixwatch_group_packets_total{group=\"%s\"} %llu\n",
				      pl->g[g].cfg->name, (unsigned long long)pl->g[g].in.packets);
		family(b, "prefixwatch_group_bytes_total", "counter",
		       "Bytes (whole frames, in bytes) to any prefix of a group, each packet once.");
		for (size_t g = 0; g < pl->n_groups; g++)
			pw_buf_printf(b, "prefixwatch_group_bytes_total{group=\"%s\"} %llu\n",
				      pl->g[g].cfg->name, (unsigned long long)pl->g[g].in.bytes);
		family(b, "prefixwatch_group_rate_pps", "gauge",
		       "Packets per second to a group over the last poll interval (what the detectors see).");
		for (size_t g = 0; g < pl->n_groups; g++)
			pw_buf_printf(b, "prefixwatch_group_rate_pps{group=\"%s\"} %.10g\n",
				      pl->g[g].cfg->name, pl->g[g].rate.pps);
		family(b, "prefixwatch_group_rate_bps", "gauge",
		       "Bits per second to a group over the last poll interval (what the detectors see).");
		for (size_t g = 0; g < pl->n_groups; g++)
			pw_buf_printf(b, "prefixwatch_group_rate_bps{group=\"%s\"} %.10g\n",
				      pl->g[g].cfg->name, pl->g[g].rate.bps);
	}

	family(b, "prefixwatch_unmatched_packets_total", "counter",
	       "IP packets (a count) whose destination is in no configured prefix.");
	pw_buf_printf(b, "prefixwatch_unmatched_packets_total{family=\"ipv4\"} %llu\n",
		      (unsigned long long)in->classes[PW_CLASS_UNMATCHED_V4].packets);
	pw_buf_printf(b, "prefixwatch_unmatched_packets_total{family=\"ipv6\"} %llu\n",
		      (unsigned long long)in->classes[PW_CLASS_UNMATCHED_V6].packets);
	family(b, "prefixwatch_unmatched_bytes_total", "counter",
	       "Bytes (in bytes) of IP packets whose destination is in no configured prefix.");
	pw_buf_printf(b, "prefixwatch_unmatched_bytes_total{family=\"ipv4\"} %llu\n",
		      (unsigned long long)in->classes[PW_CLASS_UNMATCHED_V4].bytes);
	pw_buf_printf(b, "prefixwatch_unmatched_bytes_total{family=\"ipv6\"} %llu\n",
		      (unsigned long long)in->classes[PW_CLASS_UNMATCHED_V6].bytes);
	family(b, "prefixwatch_non_ip_packets_total", "counter",
	       "Frames (a count) that are neither IPv4 nor IPv6 (ARP, LLDP, ...).");
	pw_buf_printf(b, "prefixwatch_non_ip_packets_total %llu\n",
		      (unsigned long long)in->classes[PW_CLASS_NON_IP].packets);
	family(b, "prefixwatch_malformed_packets_total", "counter",
	       "Frames (a count) too short for a header they announce, or with a bad IP header.");
	pw_buf_printf(b, "prefixwatch_malformed_packets_total %llu\n",
		      (unsigned long long)in->classes[PW_CLASS_MALFORMED].packets);

	family(b, "prefixwatch_interface_packets_total", "counter",
	       "Frames (a count) the program saw on an interface.");
	for (size_t i = 0; i < in->n_ifaces; i++) {
		pw_buf_printf(b, "prefixwatch_interface_packets_total{interface=\"");
		pw_buf_label(b, in->ifaces[i].name);
		pw_buf_printf(b, "\"} %llu\n", (unsigned long long)in->ifaces[i].c.packets);
	}
	family(b, "prefixwatch_interface_bytes_total", "counter",
	       "Bytes (in bytes) of every frame the program saw on an interface.");
	for (size_t i = 0; i < in->n_ifaces; i++) {
		pw_buf_printf(b, "prefixwatch_interface_bytes_total{interface=\"");
		pw_buf_label(b, in->ifaces[i].name);
		pw_buf_printf(b, "\"} %llu\n", (unsigned long long)in->ifaces[i].c.bytes);
	}
	family(b, "prefixwatch_attached", "gauge",
	       "1 for each interface the program is attached to (absent otherwise), with its XDP mode.");
	for (size_t i = 0; i < in->n_ifaces; i++) {
		if (!in->ifaces[i].attached)
			continue;
		pw_buf_printf(b, "prefixwatch_attached{interface=\"");
		pw_buf_label(b, in->ifaces[i].name);
		pw_buf_printf(b, "\",mode=\"%s\"} 1\n", in->ifaces[i].mode);
	}

	family(b, "prefixwatch_poll_duration_seconds", "gauge",
	       "Time the last poll of the counters took, in seconds.");
	pw_buf_printf(b, "prefixwatch_poll_duration_seconds %.9f\n", in->poll_seconds);
	family(b, "prefixwatch_polls_total", "counter", "Polls of the counters since start (a count).");
	pw_buf_printf(b, "prefixwatch_polls_total %llu\n", (unsigned long long)in->polls);
	family(b, "prefixwatch_config_reloads_total", "counter",
	       "Configuration reloads (a count), by result.");
	pw_buf_printf(b, "prefixwatch_config_reloads_total{result=\"success\"} %llu\n",
		      (unsigned long long)in->reloads_ok);
	pw_buf_printf(b, "prefixwatch_config_reloads_total{result=\"failure\"} %llu\n",
		      (unsigned long long)in->reloads_failed);
	family(b, "prefixwatch_last_reload_success_timestamp_seconds", "gauge",
	       "Unix time, in seconds, of the last successful configuration load.");
	pw_buf_printf(b, "prefixwatch_last_reload_success_timestamp_seconds %.3f\n",
		      in->last_reload_ok);
	if (in->extra)
		in->extra(in->extra_ctx, b);
}

/* ---- HTTP ---- */

/*
 * Slow readers and memory. Each response sends the page that was current when it was asked
 * for, and a page lives until its last response is done: a reader that takes minutes
 * keeps its page, and readers that start at different polls keep different pages (at
 * 100,000 per-prefix series a page is about 14 MB; 512 slow readers could hold 7 GB).
 * So at most PW_HTTP_MAX_PAGES pages are kept alive by readers: when a new page would
 * make more, the connections still reading the oldest are cut (shut down; libmicrohttpd
 * then closes them and drops the page). A reader is cut only when that many newer pages
 * are being read at once, so one slow scraper, however slow, is never cut by polls alone.
 * Memory held for readers: at most PW_HTTP_MAX_PAGES pages, plus the one being rendered.
 */
#define PW_HTTP_MAX_PAGES 4

struct hold;

/* A published page, shared by the responses that still send it. */
struct page {
	char *data;
	size_t len;
	int refs;		    /* the current page's own, and one per response */
	bool cut;		    /* its readers were cut */
	struct page *newer, *older; /* the live pages, newest first from pw_http.cur */
	struct hold *holds;	    /* the responses sending it */
};

/* A connection, from libmicrohttpd's NOTIFY_STARTED to its NOTIFY_CLOSED. */
struct conn {
	int fd;		   /* -1 until its first request */
	struct hold *hold; /* the response it is sending, if any */
};

/* One response sending a page, until libmicrohttpd frees it (release_cb). */
struct hold {
	struct pw_http *h;
	struct page *p;
	struct conn *conn; /* NULL once the connection closed */
	struct hold *next, **pprev;
};

/* Connections served at once; more are refused (accepted and closed) at once. */
#define PW_HTTP_MAX_CONNS 512

struct pw_http {
	struct MHD_Daemon *d;
	pthread_mutex_t lock; /* the pages, their holds and the conns' links to them */
	struct page *cur;     /* the newest page: the one served */
	struct page *oldest;
	unsigned int conns;   /* open connections; only MHD's one thread touches it */
	struct pw_http_opts opts;
};

/* Unlink @p from the live pages; under h->lock, its last reference gone. */
static void page_unlink(struct pw_http *h, struct page *p)
{
	if (p->newer)
		p->newer->older = p->older;
	else
		h->cur = p->older;
	if (p->older)
		p->older->newer = p->newer;
	else
		h->oldest = p->newer;
}

static void page_put(struct pw_http *h, struct page *p)
{
	bool last;

	if (!p)
		return;
	pthread_mutex_lock(&h->lock);
	last = --p->refs == 0;
	if (last)
		page_unlink(h, p);
	pthread_mutex_unlock(&h->lock);
	if (last) {
		free(p->data);
		free(p);
	}
}

/*
 * Cut the readers of the oldest pages until at most PW_HTTP_MAX_PAGES are left uncut;
 * under h->lock. shutdown() wakes libmicrohttpd's thread, which closes the connection
 * (with a reset: the reader learns at once, and no megabytes wait in the kernel for it).
 * The fd is still the connection's: libmicrohttpd closes it only after NOTIFY_CLOSED,
 * which clears hold->conn under this same lock.
 */
static void cut_slow_readers(struct pw_http *h)
{
	unsigned int uncut = 0;

	for (struct page *p = h->cur; p; p = p->older)
		uncut += !p->cut;
	for (struct page *p = h->oldest; p && uncut > PW_HTTP_MAX_PAGES; p = p->newer) {
		if (p->cut || p == h->cur)
			continue;
		for (struct hold *k = p->holds; k; k = k->next) {
			/* reset at close: the kernel drops what it still had to send */
			struct linger reset = { .l_onoff = 1, .l_linger = 0 };

			if (!k->conn || k->conn->fd < 0)
				continue;
			setsockopt(k->conn->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
			shutdown(k->conn->fd, SHUT_RDWR);
		}
		p->cut = true;
		uncut--;
	}
}

static void release_cb(void *cls)
{
	struct hold *k = cls;
	struct pw_http *h = k->h;

	pthread_mutex_lock(&h->lock);
	*k->pprev = k->next;
	if (k->next)
		k->next->pprev = k->pprev;
	if (k->conn && k->conn->hold == k)
		k->conn->hold = NULL;
	pthread_mutex_unlock(&h->lock);
	page_put(h, k->p);
	free(k);
}

static const char index_html[] =
	"<!DOCTYPE html>\n<html><head><title>prefixwatch</title></head><body>\n"
	"<h1>prefixwatch</h1>\n<p>Per-prefix packet counts from XDP.</p>\n"
	"<p><a href=\"/metrics\">Metrics</a></p>\n</body></html>\n";

static enum MHD_Result reply_static(struct MHD_Connection *c, unsigned int status,
				    const char *body, const char *ctype)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

const char *pw_http_arg(const struct pw_http_req *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* A page of the handler's (status.h): rendered now, freed by libmicrohttpd once sent. */
static enum MHD_Result reply_handler(struct pw_http *h, struct MHD_Connection *c, const char *url)
{
	struct pw_http_req req = { .url = url, .conn = c };
	const char *ctype = "text/plain; charset=utf-8";
	struct pw_buf b = { 0 };
	struct MHD_Response *r;
	enum MHD_Result ret;
	int status;

	status = h->opts.handler(h->opts.handler_ctx, &req, &b, &ctype);
	if (b.oom) {
		pw_buf_free(&b);
		return MHD_NO;
	}
	r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		pw_buf_free(&b);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, (unsigned int)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	const union MHD_ConnectionInfo *info;
	struct pw_http *h = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	struct conn *conn;
	struct hold *k;
	struct page *p;

	(void)version;
	(void)upload;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply_static(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
				    "text/plain; charset=utf-8");
	/* Refuse request bodies: the first call only announces the request. */
	if (!*req_cls) {
		*req_cls = h;
		return MHD_YES;
	}
	if (*upload_size)
		return reply_static(c, MHD_HTTP_BAD_REQUEST, "no body expected\n",
				    "text/plain; charset=utf-8");
	if (h->opts.web && !pw_web_authorized(h->opts.web, c))
		return pw_web_deny(c) ? MHD_YES : MHD_NO;
	if (strcmp(url, "/metrics") && h->opts.handler)
		return reply_handler(h, c, url);
	if (!strcmp(url, "/"))
		return reply_static(c, MHD_HTTP_OK, index_html, "text/html; charset=utf-8");
	if (strcmp(url, "/metrics"))
		return reply_static(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n",
				    "text/plain; charset=utf-8");

	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	conn = info ? info->socket_context : NULL;
	if (conn && conn->fd < 0) {
		info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (info)
			conn->fd = info->connect_fd;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return MHD_NO;
	pthread_mutex_lock(&h->lock);
	p = h->cur;
	if (p) {
		p->refs++;
		k->h = h;
		k->p = p;
		k->next = p->holds;
		if (k->next)
			k->next->pprev = &k->next;
		k->pprev = &p->holds;
		p->holds = k;
		if (conn) {
			if (conn->hold) /* a previous response not yet freed: no longer cut */
				conn->hold->conn = NULL;
			conn->hold = k;
			k->conn = conn;
		}
	}
	pthread_mutex_unlock(&h->lock);
	if (!p) {
		free(k);
		return reply_static(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no poll yet\n",
				    "text/plain; charset=utf-8");
	}
	r = MHD_create_response_from_buffer_with_free_callback_cls(p->len, p->data, release_cb, k);
	if (!r) {
		release_cb(k);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * libmicrohttpd stops accepting at its connection limit, leaving newcomers in the kernel's
 * backlog: behind a flood of idle connections a scrape would wait for all of them to time
 * out in turn. So the limit is enforced here instead, by refusing at accept, and
 * libmicrohttpd's own limit (twice as high) is never reached: a newcomer is either served
 * or closed at once, and service resumes at most one timeout after a flood stops.
 */
static enum MHD_Result admit(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	const struct pw_http *h = cls;

	(void)addr;
	(void)addrlen;
	return h->conns < PW_HTTP_MAX_CONNS ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct pw_http *h = cls;
	struct conn *conn;

	(void)c;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		h->conns++;
		conn = malloc(sizeof(*conn)); /* without it, the connection is never cut */
		if (conn) {
			conn->fd = -1;
			conn->hold = NULL;
		}
		*socket_ctx = conn;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		h->conns--;
		conn = *socket_ctx;
		if (conn) {
			pthread_mutex_lock(&h->lock);
			if (conn->hold)
				conn->hold->conn = NULL;
			pthread_mutex_unlock(&h->lock);
			free(conn);
			*socket_ctx = NULL;
		}
	}
}

int pw_http_start(const char *listen, struct pw_http **out, char *err, size_t errlen)
{
	return pw_http_start_opts(listen, NULL, out, err, errlen);
}

int pw_http_start_opts(const char *listen, const struct pw_http_opts *opts, struct pw_http **out,
		       char *err, size_t errlen)
{
	struct MHD_OptionItem tls[PW_WEB_MHD_OPTIONS];
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	char host[128], port[8];
	unsigned int portnum;
	struct pw_http *h;
	unsigned int flags;
	int rc;

	if (pw_listen_parse(listen, host, sizeof(host), &portnum)) {
		snprintf(err, errlen, "listen address '%s' is not HOST:PORT", listen);
		return -1;
	}
	snprintf(port, sizeof(port), "%u", portnum);
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "listen address '%s': %s (give a numeric address)", listen,
			 gai_strerror(rc));
		return -1;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		freeaddrinfo(ai);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&h->lock, NULL);
	if (opts)
		h->opts = *opts;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (pw_web_mhd_options(h->opts.web, tls))
		flags |= MHD_USE_TLS;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/*
	 * One thread serves everyone from memory; bounded connections, per-connection
	 * memory and idle time keep slow or greedy clients from growing the daemon.
	 */
	h->d = MHD_start_daemon(flags, 0, admit, h, on_request, h, MHD_OPTION_SOCK_ADDR,
				ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
				(unsigned int)(2 * PW_HTTP_MAX_CONNS), MHD_OPTION_NOTIFY_CONNECTION,
				on_connection, h,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)0,
				MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!h->d) {
		snprintf(err, errlen, "cannot listen on %s: %s", listen,
			 errno ? strerror(errno) : "libmicrohttpd refused");
		pthread_mutex_destroy(&h->lock);
		free(h);
		return -1;
	}
	*out = h;
	return 0;
}

void pw_http_publish(struct pw_http *h, struct pw_buf *page)
{
	struct page *p = malloc(sizeof(*p)), *old;

	if (!p) {
		pw_buf_free(page);
		return;
	}
	*p = (struct page){ .data = page->data, .len = page->len, .refs = 1 };
	memset(page, 0, sizeof(*page));
	pthread_mutex_lock(&h->lock);
	old = h->cur;
	p->older = old;
	if (old)
		old->newer = p;
	else
		h->oldest = p;
	h->cur = p;
	cut_slow_readers(h);
	pthread_mutex_unlock(&h->lock);
	page_put(h, old);
}

void pw_http_stop(struct pw_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	page_put(h, h->cur);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
