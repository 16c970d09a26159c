/*
 * cli_observe.c — observability for `replyguard batch`: --audit FILE (one
 * JSON Lines audit event per checked input, through the library's audit
 * callback and JSON writer), --metrics FILE (the Prometheus text at the
 * end), and the input members that feed them: "labels" (tenant, persona,
 * conversation_id, ... as rg_label) and "time" (replaying logged
 * conversations keeps their timestamps in the audit).
 *
 * The audit line is the library's (rg_audit_event_json) with the input's
 * "id" spliced in first, so that a reviewer can go from an audit line back
 * to the conversation without the audit holding any reply text.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The library calls this on the checking thread, inside rg_check. */
static void on_audit(const rg_audit_event *event, void *user)
{
    cli_observe *ob = user;
    rg_audit_event ev = *event;
    if (ob->has_time)
        ev.time_ns = ob->time_ns;
    size_t len = 0;
    int rc = rg_audit_event_json(&ev, ob->buf, ob->cap, &len);
    if (rc == RG_E_RANGE) {
        char *nb = realloc(ob->buf, len + 1);
        if (!nb) {
            ob->failed = ENOMEM;
            return;
        }
        ob->buf = nb;
        ob->cap = len + 1;
        rc = rg_audit_event_json(&ev, ob->buf, ob->cap, &len);
    }
    if (rc != RG_OK || len < 2) {
        ob->failed = EINVAL;
        return;
    }
    ob->line.len = 0;
    if (ob->id && !json_is_null(ob->id)) {
        cli_buf_puts(&ob->line, "{\"id\":");
        cli_json_id(&ob->line, ob->id);
        cli_buf_putc(&ob->line, ',');
        cli_buf_put(&ob->line, ob->buf + 1, len - 1); /* after the '{' */
    } else {
        cli_buf_put(&ob->line, ob->buf, len);
    }
    if (ob->line.oom) {
        ob->failed = ENOMEM;
        return;
    }
    errno = 0;
    if (fwrite(ob->line.p, 1, ob->line.len, ob->audit) != ob->line.len)
        ob->failed = errno ? errno : EIO;
    ob->events++;
}

int cli_observe_open(cli_observe *ob, const char *verb, rg_engine *engine,
                     const char *audit_path, int redacted)
{
    if (!audit_path)
        return 0;
    ob->audit = fopen(audit_path, "w");
    if (!ob->audit) {
        cli_error(verb, "cannot write audit file '%s': %s", audit_path,
                  strerror(errno));
        return CLI_EXIT_USAGE;
    }
    ob->audit_path = audit_path;
    int rc = rg_engine_set_audit(engine, on_audit, ob,
                                 redacted ? RG_AUDIT_REDACTED_COPY : 0);
    if (rc != RG_OK) {
        cli_error(verb, "audit: %s", rg_strerror(rc));
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_observe_close(cli_observe *ob, const char *verb)
{
    int status = 0;
    if (ob->audit) {
        if (ob->failed) {
            cli_error(verb, "cannot write audit file '%s': %s", ob->audit_path,
                      strerror(ob->failed));
            status = CLI_EXIT_USAGE;
        }
        if (fclose(ob->audit) != 0 && !status) {
            cli_error(verb, "cannot write audit file '%s': %s", ob->audit_path,
                      strerror(errno));
            status = CLI_EXIT_USAGE;
        }
        ob->audit = NULL;
    }
    free(ob->buf);
    free(ob->labels);
    cli_buf_free(&ob->line);
    return status;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): no timegm, no TZ environment. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int cli_parse_time(const char *s, uint64_t *ns)
{
    unsigned y, mo, d, h, mi, sec;
    int n = 0;
    if (sscanf(s, "%4u-%2u-%2u%*1[Tt ]%2u:%2u:%2u%n", &y, &mo, &d, &h, &mi,
               &sec, &n) != 6 || n != 19)
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
        mi > 59 || sec > 60)
        return -1;
    const char *p = s + n;
    uint64_t frac = 0, scale = 1000000000u;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9') {
            if (scale > 1) {
                scale /= 10;
                frac += (uint64_t)(*p - '0') * scale;
            }
            p++;
        }
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        unsigned oh, om;
        int k = 0;
        if (sscanf(p + 1, "%2u:%2u%n", &oh, &om, &k) != 2 || k != 5 || oh > 23 ||
            om > 59)
            return -1;
        off = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    if (t < 0)
        return -1;
    *ns = (uint64_t)t * 1000000000u + frac;
    return 0;
}

const char *cli_observe_request(cli_observe *ob, const json_t *root,
                                rg_request *req, const char **field)
{
    ob->has_time = 0;
    const json_t *t = json_object_get(root, "time");
    if (t && !json_is_null(t)) {
        *field = "time";
        if (json_is_number(t)) {
            double v = json_number_value(t);
            if (!isfinite(v) || v < 0 || v > 1e11)
                return "must be Unix seconds or an RFC 3339 date-time";
            ob->time_ns = (uint64_t)(v * 1e9 + 0.5);
        } else if (!json_is_string(t) ||
                   cli_parse_time(json_string_value(t), &ob->time_ns)) {
            return "must be Unix seconds or an RFC 3339 date-time";
        }
        ob->has_time = 1;
    }
    const json_t *labels = json_object_get(root, "labels");
    if (!labels || json_is_null(labels))
        return NULL;
    *field = "labels";
    if (!json_is_object(labels))
        return "must be an object of strings";
    size_t n = json_object_size(labels);
    if (n > ob->label_cap) {
        rg_label *l = realloc(ob->labels, n * sizeof *l);
        if (!l)
            return "is too large (out of memory)";
        ob->labels = l;
        ob->label_cap = n;
    }
    size_t i = 0;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)labels, k, v) {
        if (!json_is_string(v))
            return "must be an object of strings";
        if (strlen(json_string_value(v)) != json_string_length(v))
            return "must not contain a NUL character";
        ob->labels[i].key = k;
        ob->labels[i].value = json_string_value(v);
        i++;
    }
    req->labels = ob->labels;
    req->label_count = i;
    return NULL;
}

int cli_write_metrics(const char *verb, const rg_engine *engine,
                      const char *path)
{
    size_t cap = 16384, len = 0;
    char *buf = NULL;
    int rc;
    do {
        char *nb = realloc(buf, cap);
        if (!nb) {
            free(buf);
            cli_error(verb, "out of memory");
            return CLI_EXIT_USAGE;
        }
        buf = nb;
        rc = rg_engine_metrics(engine, buf, cap, &len);
        cap = len + 4096; /* room: the text may grow between two calls */
    } while (rc == RG_E_RANGE);
    int status = 0;
    FILE *f = rc == RG_OK ? fopen(path, "w") : NULL;
    if (rc != RG_OK) {
        cli_error(verb, "metrics: %s", rg_strerror(rc));
        status = CLI_EXIT_USAGE;
    } else {
        int bad = !f || fwrite(buf, 1, len, f) != len;
        if (f && fclose(f) != 0)
            bad = 1;
        if (bad) {
            cli_error(verb, "cannot write metrics file '%s': %s", path,
                      strerror(errno));
            status = CLI_EXIT_USAGE;
        }
    }
    free(buf);
    return status;
}
