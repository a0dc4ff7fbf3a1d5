/* jl_threads.h: how many threads a parallel region runs on, decided from what the last regions
 * of the same loop saw (included by jaxlite.h).
 *
 * An OpenMP region ends when its last thread does: on a machine busier than its cores, a worker
 * the scheduler has not run yet holds the calling thread at the region's end (measured on the
 * 2-core EPYC beside two busy processes: the MLP step of bench_jit.py took 50-68 ms with two
 * threads, 9.5 ms with one). So each region site keeps a small state (`jl_par_state`, static):
 * a region on T threads times the calling thread's own share (M) and the whole region (W); when
 * W > T M the region took longer than the calling thread alone would have (about T M), the
 * workers were late, and the site's next regions run on the calling thread alone, until a probe
 * (one region on every thread) after a back-off that doubles while the probes keep finding the
 * workers late (JL_PAR_BACKOFF_MIN_NS .. JL_PAR_BACKOFF_MAX_NS) and halves when they are not.
 * The cost when the workers are on time: two clock reads per region (regions are 2^18 work units
 * and more). Results never depend on the thread count (the loops it is used for give each
 * output to one thread, or combine fixed chunks in order: backend/rules_reduce.py).
 *
 * JAXLITE_THREADS (read once per library): "adaptive" (the default), "fixed" (every region on
 * every thread, as plain OpenMP), "alternate" (for the tests: regions alternate between every
 * thread and one, and every probe counts as late).
 *
 * Usage (what backend/lower_ctx.py emits):
 *   static jl_par_state s_;              (file scope)
 *   jl_par_region r_; jl_par_begin(&s_, &r_);   (jl_par_begin_dynamic: schedule(dynamic))
 *   #pragma omp parallel num_threads(r_.nt)
 *   { #pragma omp for nowait ... ; jl_par_mark(&r_); }
 *   jl_par_end(&s_, &r_);
 */
#ifndef JL_THREADS_H
#define JL_THREADS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define JL_PAR_BACKOFF_MIN_NS 10000000LL  /* 10 ms */
#define JL_PAR_BACKOFF_MAX_NS 1000000000LL /* 1 s */

/* Relaxed atomics where GCC's builtins exist (a benign race otherwise: a state is a hint). */
#if defined(__GNUC__)
#define JL_PAR_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define JL_PAR_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#else
#define JL_PAR_LOAD(p) (*(p))
#define JL_PAR_STORE(p, v) (*(p) = (v))
#endif

typedef struct {
  int64_t until;   /* run on the calling thread alone until this time (ns); 0: threads */
  int64_t backoff; /* the next back-off (ns) */
  int64_t count;   /* regions seen ("alternate" mode) */
} jl_par_state;

typedef struct {
  int nt;               /* the threads this region runs on */
  int dynamic;          /* its threads claim chunks as they come (else: a fixed share each) */
  int64_t t0;           /* when it began (ns) */
  volatile int64_t tm;  /* when the calling thread finished its share (ns) */
} jl_par_region;

__attribute__((unused)) static int64_t jl_par_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* 0 adaptive, 1 fixed, 2 alternate (JAXLITE_THREADS) */
__attribute__((unused)) static int jl_par_mode_ = -1;
__attribute__((unused)) static int jl_par_mode(void) {
  int m = JL_PAR_LOAD(&jl_par_mode_);
  if (m < 0) {
    const char *e = getenv("JAXLITE_THREADS");
    m = e && !strcmp(e, "fixed") ? 1 : e && !strcmp(e, "alternate") ? 2 : 0;
    JL_PAR_STORE(&jl_par_mode_, m);
  }
  return m;
}

/* The decisions, on given times (tests/test_threads.py calls them with made-up ones): the
 * threads a region of site `s` beginning at `now` runs on (of `max`) ... */
__attribute__((unused)) static int jl_par_threads(jl_par_state *s, int max, int64_t now,
                                                  int mode) {
  if (max <= 1) return 1;
  if (mode == 2) {
    const int64_t c = JL_PAR_LOAD(&s->count);
    JL_PAR_STORE(&s->count, c + 1);
    return c & 1 ? 1 : max;
  }
  return mode == 0 && now < JL_PAR_LOAD(&s->until) ? 1 : max;
}

/* ... and what a region on `nt` threads that took `w` ns, the calling thread's share `m` ns
 * (0: not noted), ending at `now`, tells the site; returns whether its workers were late. With
 * a fixed share each, the caller alone would have taken about nt m: late when w > nt m. With
 * chunks claimed as they come (`dynamic`), a late worker leaves its part to the caller, which
 * then waits only for it to arrive (or to finish the chunk it holds): late when that wait
 * (w - m) exceeds the caller's own time. NB: stricter (w - m > m / 2) lost on the loaded 2-core
 * EPYC: a worker sharing its core finishes its last chunk a little after the caller, and the
 * regions then ran on one thread when two were faster (128x784x512: 1.2 against 0.8 ms). */
__attribute__((unused)) static bool jl_par_update(jl_par_state *s, int nt, int dynamic, int64_t w,
                                                  int64_t m, int64_t now, int mode) {
  if (nt <= 1 || mode == 1) return false;
  const bool late = mode == 2 || (m > 0 && (dynamic ? w - m > m : w > (int64_t)nt * m));
  int64_t b = JL_PAR_LOAD(&s->backoff);
  if (late) {
    b = b < JL_PAR_BACKOFF_MIN_NS ? JL_PAR_BACKOFF_MIN_NS
        : b >= JL_PAR_BACKOFF_MAX_NS / 2 ? JL_PAR_BACKOFF_MAX_NS : 2 * b;
    JL_PAR_STORE(&s->backoff, b);
    JL_PAR_STORE(&s->until, now + b);
  } else {
    JL_PAR_STORE(&s->backoff, b / 2);
    JL_PAR_STORE(&s->until, (int64_t)0);
  }
  return late;
}

/* Sets r->nt: 1 inside another region, with one thread available, or while the site's workers
 * were late; else every thread (omp_get_max_threads). */
__attribute__((unused)) static void jl_par_begin(jl_par_state *s, jl_par_region *r) {
  r->nt = 1;
  r->dynamic = 0;
  r->tm = 0;
#ifdef _OPENMP
  if (omp_in_parallel()) return;
  const int max = omp_get_max_threads();
  if (max <= 1) return;
  r->t0 = jl_par_now();
  r->nt = jl_par_threads(s, max, r->t0, jl_par_mode());
#else
  (void)s;
#endif
}

/* The same for a region whose loop is `schedule(dynamic)`. */
__attribute__((unused)) static void jl_par_begin_dynamic(jl_par_state *s, jl_par_region *r) {
  jl_par_begin(s, r);
  r->dynamic = 1;
}

/* In the region, after the thread's share of the loop: the calling thread notes the time. */
__attribute__((unused)) static void jl_par_mark(jl_par_region *r) {
#ifdef _OPENMP
  if (r->nt > 1 && omp_get_thread_num() == 0) r->tm = jl_par_now();
#else
  (void)r;
#endif
}

/* After the region: whether its workers were late decides the site's next regions. */
__attribute__((unused)) static void jl_par_end(jl_par_state *s, jl_par_region *r) {
  if (r->nt <= 1) return;
  const int64_t now = jl_par_now();
  jl_par_update(s, r->nt, r->dynamic, now - r->t0, r->tm ? r->tm - r->t0 : 0, now,
                jl_par_mode());
}

#endif /* JL_THREADS_H */
