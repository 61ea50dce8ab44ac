#include "cases.h"
int case_drain(const struct bench_opts *o)
{
    (void)o;
    return -1;
}
