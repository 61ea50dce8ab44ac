#include "cases.h"
int case_connection_churn(const struct bench_opts *o)
{
    (void)o;
    return -1;
}
