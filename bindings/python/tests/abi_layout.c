/* abi_layout.c — prints the size and field offsets of every public struct
 * of replyguard.h as JSON, so test_abi.py can compare them with the ctypes
 * mirrors in replyguard/_lib.py. Built by bindings/meson.build. */
#include <replyguard.h>
#include <stddef.h>
#include <stdio.h>

static int first_struct = 1, first_field;

static void begin(const char *name, size_t size)
{
    printf("%s\"%s\": {\"size\": %zu, \"fields\": {", first_struct ? "" : ", ", name, size);
    first_struct = 0;
    first_field = 1;
}

static void field(const char *name, size_t offset)
{
    printf("%s\"%s\": %zu", first_field ? "" : ", ", name, offset);
    first_field = 0;
}

#define S(T) begin(#T, sizeof(T))
#define F(T, m) field(#m, offsetof(T, m))
#define E() printf("}}")

int main(void)
{
    printf("{");
    S(rg_diag_entry); F(rg_diag_entry, file); F(rg_diag_entry, line); F(rg_diag_entry, column);
    F(rg_diag_entry, severity); F(rg_diag_entry, message); E();
    S(rg_diag); F(rg_diag, count); F(rg_diag, entries); E();
    S(rg_engine_options); F(rg_engine_options, struct_size); F(rg_engine_options, allocator);
    F(rg_engine_options, flags); F(rg_engine_options, cache_dir); E();
    S(rg_engine_info); F(rg_engine_info, policy_version); F(rg_engine_info, policy_hash);
    F(rg_engine_info, generation); F(rg_engine_info, detector_count);
    F(rg_engine_info, pattern_count); F(rg_engine_info, route_count);
    F(rg_engine_info, compile_ns); E();
    S(rg_text); F(rg_text, ptr); F(rg_text, len); E();
    S(rg_label); F(rg_label, key); F(rg_label, value); E();
    S(rg_request); F(rg_request, route); F(rg_request, reply); F(rg_request, reply_len);
    F(rg_request, user_message); F(rg_request, user_message_len); F(rg_request, history);
    F(rg_request, history_count); F(rg_request, channel); F(rg_request, locale);
    F(rg_request, labels); F(rg_request, label_count); E();
    S(rg_hit); F(rg_hit, detector); F(rg_hit, category); F(rg_hit, start); F(rg_hit, end);
    F(rg_hit, score); F(rg_hit, shadow); F(rg_hit, source); E();
    S(rg_category_score); F(rg_category_score, category); F(rg_category_score, score);
    F(rg_category_score, verdict); F(rg_category_score, redact);
    F(rg_category_score, shadow_score); E();
    S(rg_reason); F(rg_reason, category); F(rg_reason, rule); F(rg_reason, route);
    F(rg_reason, action); F(rg_reason, score); F(rg_reason, threshold);
    F(rg_reason, shadow); E();
    printf("}\n");
    return 0;
}
