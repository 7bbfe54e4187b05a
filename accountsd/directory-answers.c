/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accountsd/directory-answers.h"
#include "accountsd/directory.h"
#include "basic/alloc-util.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/negative-table.h"

char *answer_key(const struct nss_proto_request *q)
{
        char *key;
        int r = nss_proto_type_by_name(q->type) ? asprintf(&key, "%d:%s", (int)q->type, q->name)
                                                : asprintf(&key, "%d#%u", (int)q->type, q->id);
        return r < 0 ? NULL : key;
}

void stored_answer_done(struct stored_answer *a)
{
        free(a->key);
        free(a->msg);
}

void answer_store_clear(struct answer_store *s)
{
        for (size_t i = 0; i < s->n; i++)
                stored_answer_done(&s->answers[i]);
        free(s->answers);
        *s = (struct answer_store){};
}

static void answer_store_remove(struct answer_store *s, size_t i)
{
        stored_answer_done(&s->answers[i]);
        s->answers[i] = s->answers[--s->n];
}

struct stored_answer *answer_store_find(struct answer_store *s, const char *key, uint64_t now)
{
        for (size_t i = 0; i < s->n; i++) {
                if (s->answers[i].expires_usec <= now) {
                        answer_store_remove(s, i--);
                        continue;
                }
                if (streq(s->answers[i].key, key))
                        return &s->answers[i];
        }
        return NULL;
}

void answer_store_add(struct answer_store *s, const char *key, const struct nss_proto_request *q, bool found,
        const void *msg, size_t size, uint64_t now, uint64_t ttl)
{
        struct stored_answer a = {.q = *q, .found = found, .answered_usec = now, .expires_usec = now + ttl};

        if (s->n >= DIRECTORY_ANSWERS_MAX) {
                size_t oldest = 0;
                for (size_t i = 1; i < s->n; i++)
                        if (s->answers[i].answered_usec < s->answers[oldest].answered_usec)
                                oldest = i;
                answer_store_remove(s, oldest);
        }
        if (GROW_ARRAY(s->answers, NULL, s->n + 1) < 0)
                return;
        a.key = strdup(key);
        a.msg = malloc(size);
        if (!a.key || !a.msg) {
                stored_answer_done(&a);
                return;
        }
        memcpy(a.msg, msg, size);
        a.size = size;
        s->answers[s->n++] = a;
}

void answer_store_forget_found_before(struct answer_store *s, uint64_t usec)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->answers[i].found && s->answers[i].answered_usec < usec)
                        answer_store_remove(s, i--);
}

static int newest_first(const void *x, const void *y)
{
        const struct stored_answer *a = *(const struct stored_answer *const *)x;
        const struct stored_answer *b = *(const struct stored_answer *const *)y;
        return a->answered_usec < b->answered_usec ? 1 : a->answered_usec > b->answered_usec ? -1 : 0;
}

int answer_store_write_negatives(const struct answer_store *s, int dir_fd, uint64_t now)
{
        _cleanup_free_ const struct stored_answer **live = calloc(MAX(s->n, (size_t)1), sizeof(*live));
        _cleanup_free_ struct negative_entry *entries = NULL;
        _cleanup_free_ void *image = NULL;
        size_t n = 0, size;
        int r;

        if (!live)
                return -ENOMEM;
        for (size_t i = 0; i < s->n; i++)
                if (!s->answers[i].found && s->answers[i].expires_usec > now)
                        live[n++] = &s->answers[i];
        if (n == 0)
                return unlinkat(dir_fd, NEGATIVE_TABLE_FILE_NAME, 0) < 0 && errno != ENOENT ? -errno : 0;
        /* Full: the newest answers are the ones worth keeping. */
        qsort(live, n, sizeof(*live), newest_first);
        if (!(entries = calloc(n, sizeof(*entries))))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                entries[i] = (struct negative_entry){.q = live[i]->q, .expires_usec = live[i]->expires_usec};
        if ((r = negative_table_build(entries, n, now, &image, &size)) < 0)
                return r;
        return write_file_atomic(dir_fd, NEGATIVE_TABLE_FILE_NAME, image, size, 0644, (uid_t)-1, (gid_t)-1);
}

bool breaker_blocks(struct breaker *b, uint64_t now)
{
        if (b->open_until == 0)
                return false;
        if (now < b->open_until)
                return true;
        b->open_until = now + DIRECTORY_BREAKER_PROBE_USEC;
        return false;
}

void breaker_record(struct breaker *b, bool reached, uint64_t now)
{
        if (reached) {
                if (b->open_until)
                        log_info("Metadata server answers directory questions again.");
                b->failures = 0;
                b->open_until = 0;
                return;
        }
        if (++b->failures >= DIRECTORY_BREAKER_THRESHOLD) {
                if (!b->open_until)
                        log_warning("Metadata server unreachable; directory misses answer UNAVAIL for now.");
                b->open_until = now + DIRECTORY_BREAKER_PROBE_USEC;
        }
}
