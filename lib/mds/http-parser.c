/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP/1.1 answer parser of lib/mds/http.h: a pure function of the
 * bytes received (no I/O), the part a hostile server controls; fuzzed by
 * tests/fuzz/fuzz-http-response.c. The socket side is in http.c. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mds/http.h"

void http_response_done(struct http_response *r)
{
        free(r->body);
        free(r->etag);
        *r = (struct http_response){};
}


void http_parser_init(struct http_parser *p, size_t max_body)
{
        *p = (struct http_parser){.max_body = max_body};
}

void http_parser_done(struct http_parser *p)
{
        free(p->pending);
        http_response_done(&p->response);
        http_parser_init(p, p->max_body);
}

static bool is_tchar(char c)
{
        return isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c);
}

/* Control characters other than HT (and DEL) never appear in a header. */
static bool valid_field_text(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
                        return false;
        return true;
}

static bool token_equal(const char *s, size_t n, const char *token)
{
        return n == strlen(token) && strncasecmp(s, token, n) == 0;
}

/* "close" among the comma-separated tokens of a Connection header. */
static bool connection_says_close(const char *s, size_t n)
{
        size_t i = 0;
        while (i < n) {
                size_t start, end;
                while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
                        i++;
                start = i;
                while (i < n && s[i] != ',')
                        i++;
                end = i;
                while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
                        end--;
                if (token_equal(s + start, end - start, "close"))
                        return true;
        }
        return false;
}

int http_parse_decimal(const char *s, size_t n, uint64_t *ret)
{
        uint64_t v = 0;
        if (n == 0)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
                        return -EBADMSG;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        *ret = v;
        return 0;
}

struct header_block {
        bool http11, close, chunked, has_length, flavor_seen;
        uint64_t length;
};

static int parse_status_line(const char *s, size_t n, struct header_block *h, int *ret_status)
{
        /* HTTP/1.x SP 3DIGIT [SP reason] */
        if (n < 12 || strncmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') || s[8] != ' ' ||
            !isdigit((unsigned char)s[9]) || !isdigit((unsigned char)s[10]) || !isdigit((unsigned char)s[11]) ||
            (n > 12 && s[12] != ' '))
                return -EBADMSG;
        int status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
        if (status < 100 || status > 599)
                return -EBADMSG;
        h->http11 = s[7] == '1';
        *ret_status = status;
        return 0;
}

static int parse_header_field(struct http_parser *p, struct header_block *h, const char *s, size_t n)
{
        const char *colon = memchr(s, ':', n), *value, *end = s + n;
        size_t name_len;
        uint64_t length;
        int r;

        /* No obs-fold, no line without a name, no space before the colon. */
        if (!colon || colon == s)
                return -EBADMSG;
        name_len = (size_t)(colon - s);
        for (size_t i = 0; i < name_len; i++)
                if (!is_tchar(s[i]))
                        return -EBADMSG;
        value = colon + 1;
        while (value < end && (*value == ' ' || *value == '\t'))
                value++;
        while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        size_t value_len = (size_t)(end - value);

        if (token_equal(s, name_len, "Content-Length")) {
                r = http_parse_decimal(value, value_len, &length);
                if (r < 0 || (h->has_length && length != h->length))
                        return -EBADMSG;
                h->has_length = true;
                h->length = length;
        } else if (token_equal(s, name_len, "Transfer-Encoding")) {
                /* We can decode chunked only, and only once. */
                if (h->chunked || !token_equal(value, value_len, "chunked"))
                        return -EBADMSG;
                h->chunked = true;
        } else if (token_equal(s, name_len, "Connection")) {
                if (connection_says_close(value, value_len))
                        h->close = true;
        } else if (token_equal(s, name_len, "Metadata-Flavor")) {
                bool google = value_len == 6 && strncmp(value, "Google", 6) == 0;
                p->response.flavor = google && (!h->flavor_seen || p->response.flavor);
                h->flavor_seen = true;
        } else if (token_equal(s, name_len, "ETag")) {
                char *etag = strndup(value, value_len);
                if (!etag)
                        return -ENOMEM;
                free(p->response.etag);
                p->response.etag = etag;
        }
        return 0;
}

/* Parses the block S[0..N) (status line and fields, without the empty line)
 * and chooses how the body is delimited. */
static int parse_header_block(struct http_parser *p, const char *s, size_t n)
{
        struct header_block h = {};
        bool first = true;
        int r;

        free(p->response.etag);
        p->response = (struct http_response){};
        while (n > 0) {
                const char *nl = memchr(s, '\n', n);
                size_t line_len = nl ? (size_t)(nl - s) : n, next = nl ? line_len + 1 : n;
                if (line_len > 0 && s[line_len - 1] == '\r')
                        line_len--;
                if (!valid_field_text(s, line_len))
                        return -EBADMSG;
                if (first)
                        r = parse_status_line(s, line_len, &h, &p->response.status);
                else if (line_len > 0 && (s[0] == ' ' || s[0] == '\t'))
                        r = -EBADMSG; /* obs-fold */
                else
                        r = parse_header_field(p, &h, s, line_len);
                if (r < 0)
                        return r;
                first = false;
                s += next;
                n -= next;
        }
        if (first)
                return -EBADMSG;

        int status = p->response.status;
        if (status >= 100 && status < 200) {
                if (status == 101 || ++p->interim > HTTP_MAX_INTERIM)
                        return -EBADMSG;
                p->state = HTTP_PARSE_HEADERS; /* the real answer follows */
                return 0;
        }
        if (h.chunked && h.has_length)
                return -EBADMSG; /* ambiguous framing: the smuggling kind */
        p->response.keep_alive = h.http11 && !h.close;
        if (status == 204 || status == 304)
                p->state = HTTP_PARSE_DONE;
        else if (h.chunked)
                p->state = HTTP_PARSE_CHUNK_SIZE;
        else if (h.has_length) {
                if (h.length > p->max_body)
                        return -EFBIG;
                p->remaining = h.length;
                p->state = h.length ? HTTP_PARSE_BODY_LENGTH : HTTP_PARSE_DONE;
        } else {
                p->response.keep_alive = false;
                p->state = HTTP_PARSE_BODY_CLOSE;
        }
        return 0;
}

static int body_append(struct http_parser *p, const char *data, size_t n)
{
        struct http_response *r = &p->response;
        if (n > p->max_body - r->size)
                return -EFBIG;
        if (r->size + n + 1 > p->body_allocated) {
                size_t want = MAX(MAX(p->body_allocated * 2, r->size + n + 1), (size_t)4096);
                if (p->max_body < SIZE_MAX)
                        want = MIN(want, p->max_body + 1);
                char *b = realloc(r->body, want);
                if (!b)
                        return -ENOMEM;
                r->body = b;
                p->body_allocated = want;
        }
        memcpy(r->body + r->size, data, n);
        r->size += n;
        r->body[r->size] = '\0';
        return 0;
}

/* The end of the header block in B[0..N): the offset just past the empty
 * line, 0 when not there yet. Lines end in CRLF or a bare LF. */
static size_t find_header_end(const char *b, size_t n, size_t from)
{
        for (size_t i = from; i < n; i++) {
                if (b[i] != '\n')
                        continue;
                if (i + 1 < n && b[i + 1] == '\n')
                        return i + 2;
                if (i + 2 < n && b[i + 1] == '\r' && b[i + 2] == '\n')
                        return i + 3;
        }
        return 0;
}

static int parse_chunk_size(struct http_parser *p, const char *s, size_t n)
{
        uint64_t v = 0;
        size_t i = 0;

        if (n > 0 && s[n - 1] == '\r')
                n--;
        for (; i < n && isxdigit((unsigned char)s[i]); i++) {
                if (v > (UINT64_MAX >> 4))
                        return -EBADMSG;
                v = (v << 4) | (uint64_t)(isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower(s[i]) - 'a' + 10));
        }
        if (i == 0)
                return -EBADMSG;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
                i++;
        if (i < n && s[i] != ';')
                return -EBADMSG;
        if (!valid_field_text(s + i, n - i))
                return -EBADMSG;
        if (v == 0) {
                p->state = HTTP_PARSE_TRAILERS;
                return 0;
        }
        if (v > p->max_body - p->response.size)
                return -EFBIG;
        p->remaining = v;
        p->state = HTTP_PARSE_CHUNK_DATA;
        return 0;
}

/* One step on the pending bytes B[*pos..n): consumes what it can. 0: call
 * again, 1: more bytes needed, <0: error. */
static int parse_step(struct http_parser *p, const char *b, size_t n, size_t *pos)
{
        size_t avail = n - *pos, take, end;
        const char *s = b + *pos, *nl;
        int r;

        switch (p->state) {
        case HTTP_PARSE_HEADERS:
                end = find_header_end(s, avail, p->scanned > 2 ? p->scanned - 2 : 0);
                if (end == 0) {
                        p->scanned = avail;
                        return avail > HTTP_MAX_HEADER_SIZE ? -EBADMSG : 1;
                }
                if (end > HTTP_MAX_HEADER_SIZE)
                        return -EBADMSG;
                p->scanned = 0;
                *pos += end;
                /* Block without its empty line (CRLF CRLF or LF LF). */
                end -= s[end - 2] == '\r' ? 2 : 1;
                return parse_header_block(p, s, end);
        case HTTP_PARSE_BODY_LENGTH:
        case HTTP_PARSE_CHUNK_DATA:
                if (avail == 0)
                        return 1;
                take = (size_t)MIN((uint64_t)avail, p->remaining);
                r = body_append(p, s, take);
                if (r < 0)
                        return r;
                *pos += take;
                p->remaining -= take;
                if (p->remaining == 0)
                        p->state = p->state == HTTP_PARSE_CHUNK_DATA ? HTTP_PARSE_CHUNK_END : HTTP_PARSE_DONE;
                return 0;
        case HTTP_PARSE_BODY_CLOSE:
                if (avail == 0)
                        return 1;
                r = body_append(p, s, avail);
                if (r < 0)
                        return r;
                *pos += avail;
                return 1;
        case HTTP_PARSE_CHUNK_END:
                if (avail == 0 || (s[0] == '\r' && avail < 2))
                        return 1;
                if (s[0] == '\n')
                        *pos += 1;
                else if (s[0] == '\r' && s[1] == '\n')
                        *pos += 2;
                else
                        return -EBADMSG;
                p->state = HTTP_PARSE_CHUNK_SIZE;
                return 0;
        case HTTP_PARSE_CHUNK_SIZE:
                nl = memchr(s, '\n', MIN(avail, (size_t)HTTP_MAX_CHUNK_LINE + 1));
                if (!nl)
                        return avail > HTTP_MAX_CHUNK_LINE ? -EBADMSG : 1;
                *pos += (size_t)(nl - s) + 1;
                return parse_chunk_size(p, s, (size_t)(nl - s));
        case HTTP_PARSE_TRAILERS:
                /* Read and dropped; bounded like the headers. */
                nl = memchr(s, '\n', avail);
                if (!nl)
                        return p->trailer_size + avail > HTTP_MAX_HEADER_SIZE ? -EBADMSG : 1;
                take = (size_t)(nl - s) + 1;
                p->trailer_size += take;
                if (p->trailer_size > HTTP_MAX_HEADER_SIZE)
                        return -EBADMSG;
                *pos += take;
                if (take == 1 || (take == 2 && s[0] == '\r'))
                        p->state = HTTP_PARSE_DONE;
                else if (!valid_field_text(s, take - 1 - (s[take - 2] == '\r')))
                        return -EBADMSG;
                return 0;
        case HTTP_PARSE_DONE:
                if (avail > 0) {
                        /* Bytes nobody asked for: do not trust this connection again. */
                        p->response.keep_alive = false;
                        *pos = n;
                }
                return 1;
        }
        return -EINVAL;
}

int http_parser_feed(struct http_parser *p, const void *data, size_t size)
{
        size_t pos = 0;
        int r;

        if (size == 0)
                return p->state == HTTP_PARSE_DONE;
        p->received = true;
        if (p->pending_size + size > p->pending_allocated) {
                size_t want = MAX(p->pending_allocated * 2, p->pending_size + size);
                char *b = realloc(p->pending, want);
                if (!b)
                        return -ENOMEM;
                p->pending = b;
                p->pending_allocated = want;
        }
        memcpy(p->pending + p->pending_size, data, size);
        p->pending_size += size;

        do
                r = parse_step(p, p->pending, p->pending_size, &pos);
        while (r == 0);
        memmove(p->pending, p->pending + pos, p->pending_size - pos);
        p->pending_size -= pos;
        if (r < 0)
                return r;
        return p->state == HTTP_PARSE_DONE;
}

int http_parser_finish(struct http_parser *p)
{
        if (p->state == HTTP_PARSE_BODY_CLOSE || p->state == HTTP_PARSE_DONE) {
                p->state = HTTP_PARSE_DONE;
                p->response.keep_alive = false;
                return 1;
        }
        return p->received ? -EPIPE : -ECONNRESET;
}

void http_parser_take(struct http_parser *p, struct http_response *ret)
{
        *ret = p->response;
        p->response = (struct http_response){};
        if (!ret->body)
                ret->body = strdup(""); /* checked by the caller: may still be NULL */
}
