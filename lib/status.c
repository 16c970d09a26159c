/* status.c — status code names and messages, from the X-macro in the
 * public header so that the list exists exactly once. */
#include "replyguard.h"

const char *rg_version(void) { return RG_VERSION_STRING; }

const char *rg_strerror(int status)
{
    switch (status) {
    case RG_OK:
        return "success";
#define X(name, value, msg) case value: return msg;
        RG_STATUS_MAP(X)
#undef X
    default:
        return "unknown status";
    }
}

const char *rg_status_name(int status)
{
    switch (status) {
    case RG_OK:
        return "OK";
#define X(name, value, msg) case value: return #name;
        RG_STATUS_MAP(X)
#undef X
    default:
        return "UNKNOWN";
    }
}

const char *rg_verdict_name(int verdict)
{
    switch (verdict) {
    case RG_ALLOW: return "allow";
    case RG_HANDOFF: return "handoff";
    case RG_BLOCK: return "block";
    default: return "unknown";
    }
}
