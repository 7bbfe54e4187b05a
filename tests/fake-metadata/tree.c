/* SPDX-License-Identifier: Apache-2.0 */
/* The attribute tree: recursive documents, directory listings, leaf values. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

bool fake_query_flag(struct MHD_Connection *c, const char *key)
{
        const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
        return v && (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "1") == 0);
}

/* Walks "instance/attributes/ssh-keys" through objects; NULL when absent. */
static json_object *tree_lookup(json_object *node, const char *path)
{
        char component[1024];

        while (*path) {
                const char *slash = strchr(path, '/');
                size_t len = slash ? (size_t)(slash - path) : strlen(path);
                if (len == 0) {
                        path++;
                        continue;
                }
                if (len >= sizeof(component) || !json_object_is_type(node, json_type_object))
                        return NULL;
                memcpy(component, path, len);
                component[len] = '\0';
                if (!json_object_object_get_ex(node, component, &node))
                        return NULL;
                path += len;
        }
        return node;
}

static char *listing(json_object *dir, bool as_json)
{
        json_object *names = json_object_new_array();
        size_t size = 1;
        json_object_object_foreach(dir, key, child)
        {
                bool is_dir = json_object_is_type(child, json_type_object);
                char *name = NULL;
                if (asprintf(&name, "%s%s", key, is_dir ? "/" : "") < 0)
                        abort();
                size += strlen(name) + 1;
                json_object_array_add(names, json_object_new_string(name));
                free(name);
        }
        char *out;
        if (as_json) {
                out = strdup(json_object_to_json_string_ext(names, JSON_C_TO_STRING_PLAIN));
        } else {
                out = calloc(1, size);
                for (size_t i = 0; out && i < json_object_array_length(names); i++) {
                        strcat(out, json_object_get_string(json_object_array_get_idx(names, i)));
                        strcat(out, "\n");
                }
        }
        json_object_put(names);
        if (!out)
                abort();
        return out;
}

void fake_serve_tree(const char *path, struct MHD_Connection *c, struct fake_reply *ret)
{
        bool recursive = fake_query_flag(c, "recursive");
        const char *alt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "alt");
        bool as_json = alt && strcmp(alt, "json") == 0;
        json_object *node = tree_lookup(fake.tree, path);

        if (!node) {
                fake_reply_text(ret, MHD_HTTP_NOT_FOUND, "Not Found\n");
                return;
        }
        ret->etag = true;
        if (json_object_is_type(node, json_type_object)) {
                if (recursive && (!alt || as_json)) {
                        fake_reply_json(ret, MHD_HTTP_OK, json_object_get(node));
                        return;
                }
                ret->status = MHD_HTTP_OK;
                ret->body = listing(node, as_json);
                ret->size = strlen(ret->body);
                ret->content_type = as_json ? "application/json" : "text/plain";
                return;
        }
        if (as_json) {
                fake_reply_json(ret, MHD_HTTP_OK, json_object_get(node));
                return;
        }
        /* Leaf values are served raw: strings as they are, numbers as digits. */
        fake_reply_text(ret, MHD_HTTP_OK, json_object_get_string(node));
}
