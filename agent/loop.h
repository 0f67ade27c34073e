/*
 * The daemon's loop (loop.c): runs passes until st->stop is set, then
 * returns after the pass in flight has finished.
 */
#ifndef AGENT_LOOP_H
#define AGENT_LOOP_H

#include "agent/daemon.h"

void agent_loop_run(agent_state *st, const char *cfg_path, const agent_sched *sched);

#endif
