/* jobs.h: --jobs N, the worker threads of classify, cores and preprocess.
 * Work is split by spectrum; every caller computes into one slot per
 * spectrum and writes its output afterwards in input order, so the output
 * of --jobs N is byte for byte that of --jobs 1. */
#ifndef CALCSPEC_CLI_JOBS_H
#define CALCSPEC_CLI_JOBS_H

#include <stddef.h>

/* The number of jobs chosen by --jobs (0 until set: cli_jobs() then
 * gives the default). */
extern int cli_jobs_opt;

/* Parse a --jobs value for command cmd into cli_jobs_opt: 1..256, or 0
 * for all cores.  Returns 0, or CLI_USAGE after printing the error. */
int cli_jobs_option(const char *cmd, const char *arg);

/* Jobs to run: --jobs, else CALCSPEC_JOBS when it is a number 1..256,
 * else the cores this process may run on (sched_getaffinity, so taskset
 * is honoured). */
int cli_jobs(void);

/* Calls fn(ctx, i) for every i < n on up to jobs threads (the calling
 * thread is one of them); returns when all are done.  Indices are handed
 * out one at a time in increasing order.  When threads cannot be started
 * the calling thread does the rest: never an error. */
void cli_parallel_for(int jobs, size_t n, void (*fn)(void *ctx, size_t i),
                      void *ctx);

#endif
