/* errors.h: the one error enum (mq.h) on the wire: conversion between
 * mq_err and mq.proto's Status. Shared by mqd and libmq. */
#ifndef MQ_ERRORS_H
#define MQ_ERRORS_H

#include "mq.h"
#include "mq.pb-c.h"

/* Status carried in a Reply for @e. */
Mq__V1__Status err_to_status(mq_err e);

/* mq_err for a Status received; unknown numbers become MQ_ERR_PROTOCOL. */
mq_err err_from_status(int status);

#endif
