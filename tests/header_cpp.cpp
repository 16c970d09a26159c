// header_cpp.cpp — replyguard.h compiles as C++ (extern "C", no C-only
// constructs): -std=c++11 -Wall -Wextra -Wpedantic -Werror.
#include <replyguard.h>

int main()
{
    rg_request q = rg_request();
    rg_engine_options o = rg_engine_options();
    o.struct_size = sizeof o;
    (void)q;
    unsigned flags = RG_FLAG_FAILSAFE | RG_FLAG_REDACTED;
    rg_verdict v = rg_result_verdict(nullptr);
    return rg_version() == nullptr || v != RG_HANDOFF || flags == 0 ||
           rg_strerror(RG_E_NOMEM) == nullptr;
}
