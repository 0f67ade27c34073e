/*
 * The daemon's loop (loop.c): runs passes in `ctx` (the configuration, the
 * cluster's client and the repository cache kept across passes) until
 * st->stop is set, then returns after the pass in flight has finished.
 */
#ifndef AGENT_LOOP_H
#define AGENT_LOOP_H

#include "agent/daemon.h"
#include "agent/pass.h"

void agent_loop_run(agent_state *st, agent_ctx *ctx, const agent_sched *sched);

#endif
