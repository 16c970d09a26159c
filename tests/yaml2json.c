/* yaml2json.c — test helper: one YAML file to JSON on stdout, typing plain
 * scalars by the YAML 1.2 core schema, as yaml-language-server (the
 * editors the JSON Schema is for) does: null (~, null, empty), true/false,
 * integers, floats, else strings; a quoted scalar is always a string.
 * Used by tests/schema_test.py to validate policy files against
 * policies/schema.json without a YAML package for Python.
 * Exit status: 0, or 2 with a message on stderr (unreadable or invalid
 * YAML, more than one document, anchors/aliases). */
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static regex_t re_int, re_float;

static json_t *scalar(const yaml_node_t *n)
{
    const char *s = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return json_stringn(s, len);
    if (len == 0 || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
        !strcmp(s, "NULL"))
        return json_null();
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
        return json_true();
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return json_false();
    if (regexec(&re_int, s, 0, NULL, 0) == 0)
        return json_integer(strtoll(s, NULL, 10));
    if (regexec(&re_float, s, 0, NULL, 0) == 0)
        return json_real(strtod(s, NULL));
    return json_stringn(s, len);
}

static json_t *convert(yaml_document_t *doc, yaml_node_t *n, int depth)
{
    if (!n || depth > 64)
        return NULL;
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return scalar(n);
    case YAML_SEQUENCE_NODE: {
        json_t *a = json_array();
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             it < n->data.sequence.items.top; it++) {
            json_t *v = convert(doc, yaml_document_get_node(doc, *it), depth + 1);
            if (!v) {
                json_decref(a);
                return NULL;
            }
            json_array_append_new(a, v);
        }
        return a;
    }
    case YAML_MAPPING_NODE: {
        json_t *o = json_object();
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
             p < n->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            json_t *v = convert(doc, yaml_document_get_node(doc, p->value), depth + 1);
            if (!k || k->type != YAML_SCALAR_NODE || !v) {
                json_decref(v);
                json_decref(o);
                return NULL;
            }
            json_object_setn_new(o, (const char *)k->data.scalar.value,
                                 k->data.scalar.length, v);
        }
        return o;
    }
    default:
        return NULL;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: yaml2json FILE.yaml\n");
        return 2;
    }
    regcomp(&re_int, "^[-+]?[0-9]+$", REG_EXTENDED | REG_NOSUB);
    regcomp(&re_float, "^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$",
            REG_EXTENDED | REG_NOSUB);
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    yaml_parser_t p;
    yaml_document_t doc;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    if (!yaml_parser_load(&p, &doc)) {
        fprintf(stderr, "%s:%lu:%lu: %s\n", argv[1],
                (unsigned long)p.problem_mark.line + 1,
                (unsigned long)p.problem_mark.column + 1,
                p.problem ? p.problem : "invalid YAML");
        return 2;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    json_t *j = root ? convert(&doc, root, 0) : json_object();
    if (!j) {
        fprintf(stderr, "%s: cannot convert to JSON\n", argv[1]);
        return 2;
    }
    char *out = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    puts(out);
    free(out);
    json_decref(j);
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    fclose(f);
    regfree(&re_int);
    regfree(&re_float);
    return 0;
}
