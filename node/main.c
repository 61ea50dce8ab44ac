/* main.c: mqd's entry point: configuration, then the node. */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "errmsg.h"
#include "log.h"
#include "node.h"

int main(int argc, char **argv)
{
    static struct config cfg;
    struct errmsg e = ERRMSG_INIT;
    mq_err rv = config_load(&cfg, argc, argv, &e);

    if (rv == MQ_ERR_CANCELED) {
        return 0;
    }
    if (rv != MQ_OK) {
        fprintf(stderr, "mqd: config: %s\n", e.msg);
        return 2;
    }
    log_level = cfg.log_level;
    return node_run(&cfg);
}
