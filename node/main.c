/* main.c: mqd's entry point: configuration, then the node. Exit codes: 0 a
 * clean stop (or --help, --check-config of a valid file), 1 a failure
 * while starting or running, 2 a configuration error (a supervisor must
 * not restart on it: see deploy/mqd@.service). */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "crash.h"
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
    if (cfg.check_only) {
        printf("mqd: config is valid (node %llu, data_dir %s, clients at %s, "
               "peers at %s%s%s)\n",
               (unsigned long long)cfg.id, cfg.data_dir, cfg.client_url,
               cfg.peer_url, cfg.http_url[0] ? ", HTTP at " : "", cfg.http_url);
        return 0;
    }
    crash_report_install();
    log_level = cfg.log_level;
    log_set_format(cfg.log_format);
    return node_run(&cfg);
}
