/* jobs.c: --jobs N (see jobs.h). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "jobs.h"
#include "cli.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_JOBS 256

int cli_jobs_opt = 0;

int cli_jobs_option(const char *cmd, const char *arg) {
  long v;
  if (cli_parse_int(arg, 0, MAX_JOBS, &v))
    return cli_usage_error(cmd, "--jobs wants a number 0..%d (0: all cores), "
                           "got '%s'", MAX_JOBS, arg);
  cli_jobs_opt = (int)v;
  return 0;
}

static int cores(void) {
  cpu_set_t set;
  if (!sched_getaffinity(0, sizeof set, &set)) {
    int n = CPU_COUNT(&set);
    if (n > 0)
      return n > MAX_JOBS ? MAX_JOBS : n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > MAX_JOBS ? MAX_JOBS : (int)n;
}

int cli_jobs(void) {
  if (cli_jobs_opt > 0)
    return cli_jobs_opt;
  const char *e = getenv("CALCSPEC_JOBS");
  long v;
  if (cli_jobs_opt == 0 && e && !cli_parse_int(e, 1, MAX_JOBS, &v))
    return (int)v;
  return cores();
}

typedef struct {
  pthread_mutex_t mu;
  size_t next, n;
  void (*fn)(void *, size_t);
  void *ctx;
} pool;

static void *worker(void *arg) {
  pool *p = arg;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    size_t i = p->next < p->n ? p->next++ : p->n;
    pthread_mutex_unlock(&p->mu);
    if (i >= p->n)
      return NULL;
    p->fn(p->ctx, i);
  }
}

void cli_parallel_for(int jobs, size_t n, void (*fn)(void *ctx, size_t i),
                      void *ctx) {
  if (jobs > MAX_JOBS)
    jobs = MAX_JOBS;
  if ((size_t)jobs > n)
    jobs = (int)n;
  if (jobs <= 1) {
    for (size_t i = 0; i < n; i++)
      fn(ctx, i);
    return;
  }
  pool p = {.next = 0, .n = n, .fn = fn, .ctx = ctx};
  if (pthread_mutex_init(&p.mu, NULL)) {
    for (size_t i = 0; i < n; i++)
      fn(ctx, i);
    return;
  }
  pthread_t th[MAX_JOBS];
  int started = 0;
  for (int t = 1; t < jobs; t++) {
    if (pthread_create(&th[started], NULL, worker, &p))
      break; /* fewer threads: the others share the work */
    started++;
  }
  worker(&p);
  for (int t = 0; t < started; t++)
    pthread_join(th[t], NULL);
  pthread_mutex_destroy(&p.mu);
}
