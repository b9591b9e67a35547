/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A FastCGI client for the AUTHORIZER role (fcgi_pm_authz.h): one
 * request on one connection to a class's listen socket.
 *
 *   connect      blocking, bounded by FcgidConnectTimeout: a unix socket's
 *                connect() waits only while the listen queue is full (a
 *                class's first connection is queued at once and waits
 *                there, in the read below, while its worker starts)
 *   send         BEGIN_REQUEST (AUTHORIZER, keep_conn 0), PARAMS, an
 *                empty PARAMS and an empty STDIN
 *   read         records until END_REQUEST: STDOUT's header block kept
 *                (HEADERS_MAX), the rest of STDOUT counted and dropped
 *                (ANSWER_MAX), STDERR logged at info; every wait bounded
 *                by FcgidIOTimeout
 *   parse        our own bounded parser: "Name: value" lines, Status
 *
 * Whatever goes wrong is one log line naming the program and a 500; the
 * connection is closed on every path.
 */
#include "fcgi_pm_authz.h"

#include "http_log.h"
#include "util_fcgi.h"
#include "apr_lib.h"
#include "apr_strings.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

APLOG_USE_MODULE(fcgi_pm);

#define REQUEST_ID      1
#define HEADERS_MAX     16384             /* the answer's header block */
#define ANSWER_MAX      (1024 * 1024)     /* all of its STDOUT */
#define STDERR_LOG_MAX  512               /* of one STDERR record */
#define RECORD_MAX      (AP_FCGI_MAX_CONTENT_LEN + 255)  /* content+padding */

/* END_REQUEST's protocolStatus values (the FastCGI specification). */
#define PROTO_COMPLETE        0
#define PROTO_CANT_MPX_CONN   1
#define PROTO_OVERLOADED      2
#define PROTO_UNKNOWN_ROLE    3

typedef struct {
    const fcgi_pm_authz_call *call;
    apr_pool_t *pool;             /* the exchange's buffers */
    int fd;
    unsigned char *rec;           /* one record's content and padding */
    char *head;                   /* the header block so far, NUL-ended */
    apr_size_t head_len;          /* bytes in head */
    apr_size_t head_end;          /* its length once complete, else 0 */
    apr_size_t stdout_len;        /* all of STDOUT */
    const char *failure;          /* why the exchange failed */
    int err;                      /* errno of the failure, or 0 */
} exchange;

static int fail(exchange *ex, int err, const char *why)
{
    ex->failure = why;
    ex->err = err;
    return -1;
}

static int set_send_timeout(int fd, apr_interval_time_t t)
{
    struct timeval tv;

    tv.tv_sec = (time_t)apr_time_sec(t);
    tv.tv_usec = (suseconds_t)apr_time_usec(t);
    return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int connect_program(exchange *ex)
{
    const char *path = ex->call->sock_path;
    apr_time_t deadline = apr_time_now() + ex->call->connect_timeout;
    struct sockaddr_un sun;
    int flags;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        return fail(ex, 0, "its socket path is too long");
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    apr_cpystrn(sun.sun_path, path, sizeof(sun.sun_path));
    ex->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ex->fd < 0) {
        return fail(ex, errno, "socket()");
    }
    for (;;) {
        /* At least 1 us: a zero SO_SNDTIMEO would mean no limit. */
        apr_interval_time_t left = deadline - apr_time_now();
        if (left <= 0) {
            return fail(ex, ETIMEDOUT, "its listen queue stayed full for "
                        "FcgidConnectTimeout");
        }
        if (set_send_timeout(ex->fd, left) != 0) {
            return fail(ex, errno, "setsockopt(SO_SNDTIMEO)");
        }
        if (connect(ex->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
            break;
        }
        /* An interrupted unix connect() is not under way: try again. */
        if (errno != EINTR) {
            return fail(ex, errno, errno == EAGAIN
                        ? "its listen queue stayed full for FcgidConnectTimeout"
                        : "cannot connect to its socket");
        }
    }
    flags = fcntl(ex->fd, F_GETFL);
    if (flags < 0 || fcntl(ex->fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        return fail(ex, errno, "fcntl(O_NONBLOCK)");
    }
    return 0;
}

/* Wait until the connection is ready for EVENTS, FcgidIOTimeout at most. */
static int wait_ready(exchange *ex, short events, const char *timeout_why)
{
    apr_time_t deadline = apr_time_now() + ex->call->io_timeout;
    struct pollfd pfd;

    for (;;) {
        apr_interval_time_t left = deadline - apr_time_now();
        apr_interval_time_t ms = (left + 999) / 1000;
        int rc;

        if (left <= 0) {
            return fail(ex, ETIMEDOUT, timeout_why);
        }
        pfd.fd = ex->fd;
        pfd.events = events;
        pfd.revents = 0;
        rc = poll(&pfd, 1, ms > INT_MAX ? INT_MAX : (int)ms);
        if (rc > 0) {
            return 0;       /* ready, or an error the next call reports */
        }
        if (rc < 0 && errno != EINTR) {
            return fail(ex, errno, "poll()");
        }
    }
}

static int send_all(exchange *ex, const unsigned char *buf, apr_size_t len)
{
    while (len > 0) {
        ssize_t n = send(ex->fd, buf, len, MSG_NOSIGNAL);

        if (n > 0) {
            buf += n;
            len -= (apr_size_t)n;
        }
        else if (n < 0 && errno == EINTR) {
            continue;
        }
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_ready(ex, POLLOUT, "it did not read its request within "
                           "FcgidIOTimeout") != 0) {
                return -1;
            }
        }
        else {
            return fail(ex, errno, "cannot send the request");
        }
    }
    return 0;
}

static int recv_full(exchange *ex, unsigned char *buf, apr_size_t len)
{
    while (len > 0) {
        ssize_t n = recv(ex->fd, buf, len, 0);

        if (n > 0) {
            buf += n;
            len -= (apr_size_t)n;
        }
        else if (n == 0) {
            return fail(ex, 0, "it closed the connection before END_REQUEST");
        }
        else if (errno == EINTR) {
            continue;
        }
        else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (wait_ready(ex, POLLIN, "no answer within FcgidIOTimeout")
                != 0) {
                return -1;
            }
        }
        else {
            return fail(ex, errno, "cannot read its answer");
        }
    }
    return 0;
}

/* A record header of TYPE with LEN bytes of content, at AT. */
static void record_header(unsigned char *at, unsigned char type,
                          apr_size_t len)
{
    ap_fcgi_header h;

    ap_fcgi_fill_in_header(&h, type, REQUEST_ID, (apr_uint16_t)len, 0);
    ap_fcgi_header_to_array(&h, at);
}

static int send_begin(exchange *ex)
{
    unsigned char rec[AP_FCGI_HEADER_LEN + sizeof(ap_fcgi_begin_request_body)];
    ap_fcgi_begin_request_body brb;

    record_header(rec, AP_FCGI_BEGIN_REQUEST, sizeof(brb));
    ap_fcgi_fill_in_request_body(&brb, AP_FCGI_AUTHORIZER, 0);
    ap_fcgi_begin_request_body_to_array(&brb, rec + AP_FCGI_HEADER_LEN);
    return send_all(ex, rec, sizeof(rec));
}

/* The PARAMS stream, in records of at most 64 KB each, then its end and
 * an empty STDIN: an authorizer gets no body. */
static int send_params(exchange *ex)
{
    request_rec *r = ex->call->r;
    apr_table_t *env = ex->call->params;
    const apr_array_header_t *arr = apr_table_elts(env);
    const apr_table_entry_t *elts = (const apr_table_entry_t *)arr->elts;
    unsigned char ends[2 * AP_FCGI_HEADER_LEN];
    int next = 0;

    while (next < arr->nelts) {
        int first = next;
        apr_size_t len = ap_fcgi_encoded_env_len(env, AP_FCGI_MAX_CONTENT_LEN,
                                                 &next);
        unsigned char *rec;

        if (len == 0) {
            if (next < arr->nelts) {
                ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "%s %s: "
                              "variable %s left out (larger than a record)",
                              ex->call->directive, ex->call->program,
                              elts[next].key);
                next++;
            }
            continue;
        }
        rec = apr_palloc(ex->pool, AP_FCGI_HEADER_LEN + len);
        record_header(rec, AP_FCGI_PARAMS, len);
        if (ap_fcgi_encode_env(r, env, rec + AP_FCGI_HEADER_LEN, len, &first)
            != APR_SUCCESS || first != next) {
            return fail(ex, 0, "cannot encode the request's variables");
        }
        if (send_all(ex, rec, AP_FCGI_HEADER_LEN + len) != 0) {
            return -1;
        }
    }
    record_header(ends, AP_FCGI_PARAMS, 0);
    record_header(ends + AP_FCGI_HEADER_LEN, AP_FCGI_STDIN, 0);
    return send_all(ex, ends, sizeof(ends));
}

/* Length of the header block in HEAD[0..LEN) (through its empty line),
 * 0 while incomplete; the search starts near FROM. */
static apr_size_t header_block_length(const char *head, apr_size_t len,
                                      apr_size_t from)
{
    apr_size_t i;

    if (from == 0) {                 /* an empty line first */
        if (len >= 1 && head[0] == '\n') {
            return 1;
        }
        if (len >= 2 && head[0] == '\r' && head[1] == '\n') {
            return 2;
        }
    }
    for (i = from > 2 ? from - 2 : 0; i < len; i++) {
        if (head[i] != '\n') {
            continue;
        }
        if (i + 1 < len && head[i + 1] == '\n') {
            return i + 2;
        }
        if (i + 2 < len && head[i + 1] == '\r' && head[i + 2] == '\n') {
            return i + 3;
        }
    }
    return 0;
}

static int take_stdout(exchange *ex, const unsigned char *data,
                       apr_size_t len)
{
    apr_size_t room, n;

    ex->stdout_len += len;
    if (ex->stdout_len > ANSWER_MAX) {
        return fail(ex, 0, "its answer is larger than 1 MB");
    }
    if (ex->head_end) {
        return 0;                    /* a body: not ours to send */
    }
    room = HEADERS_MAX - ex->head_len;
    n = len < room ? len : room;
    memcpy(ex->head + ex->head_len, data, n);
    ex->head_end = header_block_length(ex->head, ex->head_len + n,
                                       ex->head_len);
    ex->head_len += n;
    ex->head[ex->head_len] = '\0';
    if (!ex->head_end && ex->head_len == HEADERS_MAX) {
        return fail(ex, 0, "its answer's headers are larger than 16 KB");
    }
    return 0;
}

static void log_stderr(exchange *ex, const unsigned char *data,
                       apr_size_t len)
{
    request_rec *r = ex->call->r;
    char *text;

    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r')) {
        len--;
    }
    if (len == 0) {
        return;
    }
    text = apr_pstrmemdup(r->pool, (const char *)data,
                          len > STDERR_LOG_MAX ? STDERR_LOG_MAX : len);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s %s (stderr): %s%s",
                  ex->call->directive, ex->call->program,
                  ap_escape_logitem(r->pool, text),
                  len > STDERR_LOG_MAX ? "..." : "");
}

static int end_request(exchange *ex, const unsigned char *body,
                       apr_size_t len)
{
    if (len != 8) {
        return fail(ex, 0, "malformed END_REQUEST record");
    }
    switch (body[4]) {
    case PROTO_COMPLETE:
        break;
    case PROTO_UNKNOWN_ROLE:
        return fail(ex, 0, "it does not take the AUTHORIZER role");
    case PROTO_OVERLOADED:
        return fail(ex, 0, "it is overloaded (END_REQUEST)");
    case PROTO_CANT_MPX_CONN:
        return fail(ex, 0, "it refused the connection (END_REQUEST)");
    default:
        return fail(ex, 0, "unknown protocol status in END_REQUEST");
    }
    if (!ex->head_end) {
        return fail(ex, 0, "its answer has no complete header block");
    }
    return 0;
}

/* Records until END_REQUEST. */
static int read_answer(exchange *ex)
{
    unsigned char hdr[AP_FCGI_HEADER_LEN];

    for (;;) {
        unsigned char version, type, padding;
        apr_uint16_t id, len;

        if (recv_full(ex, hdr, sizeof(hdr)) != 0) {
            return -1;
        }
        ap_fcgi_header_fields_from_array(&version, &type, &id, &len,
                                         &padding, hdr);
        if (version != AP_FCGI_VERSION_1 || id != REQUEST_ID) {
            return fail(ex, 0, "malformed record (version or request id)");
        }
        if (recv_full(ex, ex->rec, (apr_size_t)len + padding) != 0) {
            return -1;
        }
        switch (type) {
        case AP_FCGI_STDOUT:
            if (take_stdout(ex, ex->rec, len) != 0) {
                return -1;
            }
            break;
        case AP_FCGI_STDERR:
            log_stderr(ex, ex->rec, len);
            break;
        case AP_FCGI_END_REQUEST:
            return end_request(ex, ex->rec, len);
        default:
            return fail(ex, 0, "unexpected record type");
        }
    }
}

static int is_token_char(char c)
{
    return apr_isgraph(c) && c != ':';
}

/* "Status: NNN [reason]" -> NNN, or 0. */
static int parse_status(const char *v)
{
    if (!apr_isdigit(v[0]) || !apr_isdigit(v[1]) || !apr_isdigit(v[2])
        || (v[3] && v[3] != ' ' && v[3] != '\t')) {
        return 0;
    }
    return (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
}

/* One header line (no line end); NULL or why it is malformed. */
static const char *parse_line(apr_pool_t *p, char *line,
                              fcgi_pm_authz_answer *answer)
{
    char *colon = strchr(line, ':'), *v, *end, *c;

    if (!colon || colon == line) {
        return "a header line without a name";
    }
    for (c = line; c < colon; c++) {
        if (!is_token_char(*c)) {
            return "a header name with a space or a control character";
        }
    }
    *colon = '\0';
    for (v = colon + 1; *v == ' ' || *v == '\t'; v++) {
    }
    end = v + strlen(v);
    while (end > v && (end[-1] == ' ' || end[-1] == '\t')) {
        *--end = '\0';
    }
    for (c = v; *c; c++) {
        if (apr_iscntrl(*c) && *c != '\t') {
            return "a header value with a control character";
        }
    }
    if (!strcasecmp(line, "Status")) {
        answer->status = parse_status(v);
        if (answer->status < 100 || answer->status > 599) {
            return "a Status that is not an HTTP status";
        }
        return NULL;
    }
    apr_table_add(answer->headers, apr_pstrdup(p, line), apr_pstrdup(p, v));
    return NULL;
}

/* The header block, as CGI reads it: no Status is 200, except that a
 * Location without one redirects (an absolute URL: 302). */
static const char *parse_head(apr_pool_t *p, char *head,
                              fcgi_pm_authz_answer *answer)
{
    const char *location;
    char *line = head, *nl;
    int lines = 0;

    answer->status = 0;
    answer->local_redirect = 0;
    answer->headers = apr_table_make(p, 8);
    while ((nl = strchr(line, '\n')) != NULL) {
        const char *err;

        *nl = '\0';
        if (nl > line && nl[-1] == '\r') {
            nl[-1] = '\0';
        }
        if (!*line) {
            break;                   /* the empty line */
        }
        if (*line == ' ' || *line == '\t') {
            return "a folded header line";
        }
        if ((err = parse_line(p, line, answer)) != NULL) {
            return err;
        }
        lines++;
        line = nl + 1;
    }
    if (lines == 0) {
        return "an empty header block";
    }
    location = apr_table_get(answer->headers, "Location");
    if (!answer->status) {
        answer->status = HTTP_OK;
        if (location && location[0] == '/') {
            answer->local_redirect = 1;
        }
        else if (location) {
            answer->status = HTTP_MOVED_TEMPORARILY;
        }
    }
    return NULL;
}

static void close_fd(exchange *ex)
{
    if (ex->fd >= 0) {
        close(ex->fd);
        ex->fd = -1;
    }
}

int fcgi_pm_authz_ask(const fcgi_pm_authz_call *call,
                      fcgi_pm_authz_answer *answer)
{
    request_rec *r = call->r;
    apr_pool_t *buffers;
    exchange ex;
    const char *bad = NULL;
    int rc;

    /* 80 KB of buffers, given back to the child's allocator at once. */
    if (apr_pool_create(&buffers, r->pool) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "%s %s: no memory: 500",
                      call->directive, call->program);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    memset(&ex, 0, sizeof(ex));
    ex.call = call;
    ex.pool = buffers;
    ex.fd = -1;
    ex.rec = apr_palloc(buffers, RECORD_MAX);
    ex.head = apr_palloc(buffers, HEADERS_MAX + 1);
    ex.head[0] = '\0';
    rc = connect_program(&ex);
    if (rc == 0) {
        rc = send_begin(&ex);
    }
    if (rc == 0) {
        rc = send_params(&ex);
    }
    if (rc == 0) {
        rc = read_answer(&ex);
    }
    close_fd(&ex);
    if (rc == 0) {
        ex.head[ex.head_end] = '\0';
        bad = parse_head(r->pool, ex.head, answer);   /* copies to r->pool */
    }
    apr_pool_destroy(buffers);
    if (rc != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, ex.err, r, "%s %s: %s%s: 500",
                      call->directive, call->program, ex.failure,
                      ex.err == ETIMEDOUT
                      ? apr_psprintf(r->pool, " (FcgidConnectTimeout %ld s, "
                                     "FcgidIOTimeout %ld s)",
                                     (long)apr_time_sec(call->connect_timeout),
                                     (long)apr_time_sec(call->io_timeout))
                      : "");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (bad) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "%s %s: malformed answer "
                      "(%s): 500", call->directive, call->program, bad);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}
