/* jl_threads.h: how many threads a parallel region runs on, decided from how long the last
 * regions of the same site took on every thread and on the calling thread alone (included by
 * jaxlite.h).
 *
 * An OpenMP region ends when its last thread does: on a machine busier than its cores, a worker
 * the scheduler has not run yet holds the calling thread at the region's end (measured on the
 * 2-core EPYC at load 6: the MLP step of bench_jit.py took 55-103 ms with OpenBLAS's two threads,
 * 7.4-9.3 ms on one), while on a quiet machine two threads halve it. So each region site keeps a
 * small state (`jl_par_state`, static): the running means (JL_PAR_EMA) of its time per unit of
 * work on every thread and on the caller alone; each region runs the faster way, and the other
 * way once every JL_PAR_EXPLORE_NS to keep its mean current (less often while it stays the
 * slower: JL_PAR_BACKOFF). The cost: two clock reads per region (regions are 2^18 work units
 * and more; products 2^20 multiply-adds and more, one state per product site: jl_gemm.c).
 * Results never depend on the thread count (the loops it is used for give each output to one
 * thread, or combine fixed chunks in order: backend/rules_reduce.py; products split C into
 * bands of the tiles one thread computes, or into the same BLAS slabs on any count: jl_gemm.c).
 *
 * JAXLITE_THREADS (read once per library): "adaptive" (the default), "fixed" (every region on
 * every thread, as plain OpenMP), "alternate" (for the tests: regions alternate between every
 * thread and one).
 *
 * Usage (what backend/lower_ctx.py emits):
 *   static jl_par_state s_;              (file scope)
 *   jl_par_region r_; jl_par_begin(&s_, &r_, work);
 *   #pragma omp parallel num_threads(r_.nt)
 *   { #pragma omp for ... nowait ... }
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
#if defined(__linux__)
#include <fcntl.h>  /* open: /proc/stat (jl_par_busy), without stdio's allocations */
#include <stdlib.h> /* strtoll */
#include <string.h> /* memcmp */
#include <unistd.h> /* read, close, sysconf */
#endif
#if defined(__linux__) && defined(_OPENMP)
#include <pthread.h> /* pthread_getcpuclockid: the CPU time of the threads of the regions */
#endif

#define JL_PAR_EXPLORE_NS 50000000LL /* 50 ms: the slower way's time, measured again */
/* An exploration that finds the slower way still slower doubles the site's interval, up to
 * JL_PAR_BACKOFF times JL_PAR_EXPLORE_NS; one that finds it faster than the way in use resets
 * it. With a state per product site (a training step has a dozen), each exploring every 50 ms
 * on a machine busier than its cores cost a region on threads that waited for a descheduled
 * worker every step or so. */
#define JL_PAR_BACKOFF 16
#define JL_PAR_EMA 4                 /* a new time moves the mean by 1/4 of the difference */
/* every thread must be faster by 4 / JL_PAR_MARGIN: two threads on a loaded machine lost more
 * often than one (a worker that misses its slice costs more than it saves; bench_jit.py's MLP
 * step at load 4-7 on the 2-core EPYC) */
#ifndef JL_PAR_MARGIN
#define JL_PAR_MARGIN 5
#endif

/* Relaxed atomics where GCC's builtins exist (a benign race otherwise: a state is a hint). */
#if defined(__GNUC__)
#define JL_PAR_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define JL_PAR_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#else
#define JL_PAR_LOAD(p) (*(p))
#define JL_PAR_STORE(p, v) (*(p) = (v))
#endif

typedef struct {
  int64_t par, one; /* mean ps per work unit on every thread, on the caller alone (0: unknown) */
  int64_t explore;  /* when the slower way runs next (ns) */
  int64_t seen;     /* bit 0: a region on every thread ran (untimed: thread start-up, first
                       touches), bit 1: one on the caller alone */
  int64_t count;    /* regions seen ("alternate" mode) */
  int64_t backoff;  /* the exploration interval, in JL_PAR_EXPLORE_NS (0: 1) */
} jl_par_state;

typedef struct {
  int nt;       /* the threads this region runs on (1: the caller alone) */
  bool timed;   /* whether it is timed (not nested, more than one thread available) */
  int64_t t0;   /* when it began (ns) */
  double work;  /* its work units */
  bool explored; /* it runs the slower way (an exploration) */
} jl_par_region;

__attribute__((unused)) static int64_t jl_par_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* How many CPUs other processes keep busy: their CPU time over the last JL_PAR_BUSY_NS (every
 * CPU's busy time in /proc/stat, but niced, less this process's own), in CPUs, rounded up from
 * JL_PAR_BUSY_CPUS of one (a half). An adaptive region then runs on the CPUs left free (the
 * caller alone when one or none is), untimed on a partial team, and explores no other way: a
 * region on every thread waits there for a worker the scheduler has not run (the 2-core EPYC
 * beside other agents' tests: a VAE step's products 2-3x slower on two threads than on one,
 * even the fastest tenth of them), and each site's explorations and flips paid for it (a VAE
 * and an MLP step 5-10% slower than with one state per kind of product). Relative to the
 * machine's CPUs, so that on a large machine another process's one busy core costs one thread,
 * not all but one. Sampled by one region at a time; elsewhere than Linux, never busy. */
#define JL_PAR_BUSY_NS 200000000LL
/* the CPUs online (sysconf), read once; 1 if unknown */
__attribute__((unused)) static int jl_par_ncpus_;
__attribute__((unused)) static int jl_par_ncpus(void) {
  int n = JL_PAR_LOAD(&jl_par_ncpus_);
  if (!n) {
#if defined(__linux__)
    const long c = sysconf(_SC_NPROCESSORS_ONLN);
    n = c > 0 && c < 1000000 ? (int)c : 1;
#else
    n = 1;
#endif
    JL_PAR_STORE(&jl_par_ncpus_, n);
  }
  return n;
}
#ifndef JL_PAR_BUSY_CPUS
#define JL_PAR_BUSY_CPUS 0.5
#endif
/* `busy_ns` of CPU time over `span_ns`, in CPUs rounded up from JL_PAR_BUSY_CPUS of one (0 below) */
__attribute__((unused)) static int jl_par_cpus(double busy_ns, int64_t span_ns) {
  const double cpus = busy_ns / (double)span_ns + (1.0 - JL_PAR_BUSY_CPUS);
  return cpus < 1.0 ? 0 : cpus > 1e6 ? 1000000 : (int)cpus;
}
__attribute__((unused)) static int64_t jl_par_busy_t_, jl_par_busy_ticks_, jl_par_busy_own_;
__attribute__((unused)) static int jl_par_busy_;
__attribute__((unused)) static int jl_par_busy(int64_t now) {
#if defined(__linux__) && defined(__GNUC__)
  int64_t t = __atomic_load_n(&jl_par_busy_t_, __ATOMIC_ACQUIRE);
  if (t && now - t < JL_PAR_BUSY_NS) return JL_PAR_LOAD(&jl_par_busy_);
  if (!__atomic_compare_exchange_n(&jl_par_busy_t_, &t, now, false, __ATOMIC_ACQ_REL,
                                   __ATOMIC_ACQUIRE))
    return JL_PAR_LOAD(&jl_par_busy_); /* another region samples */
  /* its first line, "cpu" and 8 counters, read with one read() into the stack: no allocation
   * (an exported function's calls allocate nothing: tests/test_export.py) */
  long long v[8] = {0};
  char line[256];
  const int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
  const ssize_t nread = fd >= 0 ? read(fd, line, sizeof line - 1) : -1;
  if (fd >= 0) close(fd);
  int got = 0;
  if (nread > 4 && memcmp(line, "cpu ", 4) == 0) {
    line[nread] = 0;
    char *p = line + 4, *end;
    for (; got < 8; got++, p = end) {
      v[got] = strtoll(p, &end, 10);
      if (end == p) break;
    }
  }
  struct timespec c;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
  const int64_t own = (int64_t)c.tv_sec * 1000000000LL + c.tv_nsec;
  /* busy: user, system, irq, softirq, steal; not idle, iowait, nor nice (a process at a lower
   * priority, as jaxlite's background build of its runtime library at nice 19, yields the CPU
   * to a woken worker at once) */
  const int64_t ticks = got == 8 ? v[0] + v[2] + v[5] + v[6] + v[7] : 0;
  const int64_t prev_ticks = jl_par_busy_ticks_, prev_own = jl_par_busy_own_;
  jl_par_busy_ticks_ = ticks;
  jl_par_busy_own_ = own;
  if (got == 8 && t && prev_ticks) {
    const long hz = sysconf(_SC_CLK_TCK);
    const double others = (double)(ticks - prev_ticks) * (1e9 / (double)(hz > 0 ? hz : 100)) -
                          (double)(own - prev_own);
    JL_PAR_STORE(&jl_par_busy_, jl_par_cpus(others, now - t));
  }
  return JL_PAR_LOAD(&jl_par_busy_);
#else
  (void)now;
  return 0;
#endif
}

/* How many CPUs this process's other threads keep busy: those that run no region of this
 * library (another library's, as NumPy's OpenBLAS workers, which spin for 0.1 s after each of its
 * products: bench_jit.py's MLP step went from 2.8 to 5.2 ms after NumPy's), from their CPU time
 * (the process's less that of the threads of this library's regions) over the last
 * JL_PAR_OWN_NS or more, in CPUs rounded up from JL_PAR_BUSY_CPUS. The /proc/stat rule above
 * cannot see them (it leaves out this process's own time), and over 200 ms it would see them
 * late: a region on every thread then waits for its workers while they spin, and each site's
 * mean of every thread took the hit. Sampled at every region that begins JL_PAR_OWN_NS after the
 * last sample (two clock reads per thread of the regions).
 *
 * The threads of the regions are the calling threads and their OpenMP teams (libgomp keeps a
 * team's threads for the caller's later regions): each caller runs one region on every thread
 * once (per library, per thread count) in which each thread records its CPU clock. Where one
 * cannot be recorded (more than JL_PAR_TEAM_MAX threads, no CPU clock) the rule is off; where
 * one cannot be read (its thread ended) or the team grew, a sample is skipped. */
#define JL_PAR_OWN_NS 5000000LL /* 5 ms */
#define JL_PAR_TEAM_MAX 256
#if defined(__linux__) && defined(__GNUC__) && defined(_OPENMP)
#define JL_PAR_OWN 1
__attribute__((unused)) static clockid_t jl_par_team_[JL_PAR_TEAM_MAX];
__attribute__((unused)) static int jl_par_team_ok_[JL_PAR_TEAM_MAX]; /* 1: recorded, 2: ended */
__attribute__((unused)) static int jl_par_nteam_, jl_par_team_off_;
__attribute__((unused)) static __thread int jl_par_joined_, jl_par_team_n_;
/* each thread of the recording region: its CPU clock, once */
__attribute__((unused)) static void jl_par_join(void) {
  if (jl_par_joined_) return;
  jl_par_joined_ = 1;
  clockid_t c;
  const int i = __atomic_fetch_add(&jl_par_nteam_, 1, __ATOMIC_ACQ_REL);
  if (i >= JL_PAR_TEAM_MAX || pthread_getcpuclockid(pthread_self(), &c)) {
    __atomic_store_n(&jl_par_team_off_, 1, __ATOMIC_RELEASE);
    return;
  }
  jl_par_team_[i] = c;
  __atomic_store_n(&jl_par_team_ok_[i], 1, __ATOMIC_RELEASE);
}
/* the calling thread (outside any region): its team of `max` recorded */
__attribute__((unused)) static void jl_par_record_team(int max) {
  if (jl_par_team_n_ >= max) return;
  jl_par_team_n_ = max;
#pragma omp parallel num_threads(max)
  jl_par_join();
}
__attribute__((unused)) static int64_t jl_par_own_t_, jl_par_own_proc_, jl_par_own_team_;
__attribute__((unused)) static int jl_par_own_n_, jl_par_own_busy_;
__attribute__((unused)) static int jl_par_own(int64_t now) {
  int64_t t = __atomic_load_n(&jl_par_own_t_, __ATOMIC_ACQUIRE);
  if (t && now - t < JL_PAR_OWN_NS) return JL_PAR_LOAD(&jl_par_own_busy_);
  if (!__atomic_compare_exchange_n(&jl_par_own_t_, &t, now, false, __ATOMIC_ACQ_REL,
                                   __ATOMIC_ACQUIRE))
    return JL_PAR_LOAD(&jl_par_own_busy_); /* another region samples */
  const int n = __atomic_load_n(&jl_par_nteam_, __ATOMIC_ACQUIRE);
  if (n > JL_PAR_TEAM_MAX || __atomic_load_n(&jl_par_team_off_, __ATOMIC_ACQUIRE)) return 0;
  struct timespec c;
  int64_t team = 0;
  bool ok = true;
  for (int i = 0; i < n; i++) {
    const int st = __atomic_load_n(&jl_par_team_ok_[i], __ATOMIC_ACQUIRE);
    if (st == 2) continue; /* an ended thread */
    if (st == 0) {         /* (being recorded) */
      ok = false;
      continue;
    }
    if (clock_gettime(jl_par_team_[i], &c)) { /* it ended: its last time is not known */
      JL_PAR_STORE(&jl_par_team_ok_[i], 2);
      ok = false;
      continue;
    }
    team += (int64_t)c.tv_sec * 1000000000LL + c.tv_nsec;
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
  const int64_t proc = (int64_t)c.tv_sec * 1000000000LL + c.tv_nsec;
  const int64_t prev_proc = jl_par_own_proc_, prev_team = jl_par_own_team_;
  const int prev_n = jl_par_own_n_;
  jl_par_own_proc_ = proc;
  jl_par_own_team_ = team;
  jl_par_own_n_ = ok ? n : -1;
  if (t && ok && prev_n == n) {
    const double others = (double)((proc - prev_proc) - (team - prev_team));
    JL_PAR_STORE(&jl_par_own_busy_, jl_par_cpus(others, now - t));
  }
  return JL_PAR_LOAD(&jl_par_own_busy_);
}
#else
#define JL_PAR_OWN 0
#define jl_par_record_team(max) ((void)(max))
#define jl_par_own(now) ((void)(now), 0)
#endif

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

/* Whether `par` ps per unit on every thread beats `one` on the caller alone by the margin */
__attribute__((unused)) static bool jl_par_wins(int64_t par, int64_t one) {
  return JL_PAR_MARGIN * par <= 4 * one;
}

/* The decisions, on given times (tests/test_threads.py calls them with made-up ones): the
 * threads a region of site `s` beginning at `now` runs on (of `max`): a way never timed first
 * (every thread, then the caller alone), then the faster, the slower once per
 * JL_PAR_EXPLORE_NS ... */
__attribute__((unused)) static int jl_par_threads(jl_par_state *s, int max, int64_t now,
                                                  int mode) {
  if (max <= 1 || mode == 1) return max > 1 ? max : 1;
  if (mode == 2) {
    const int64_t c = JL_PAR_LOAD(&s->count);
    JL_PAR_STORE(&s->count, c + 1);
    return c & 1 ? 1 : max;
  }
  const int64_t par = JL_PAR_LOAD(&s->par), one = JL_PAR_LOAD(&s->one);
  if (!par) return max; /* (twice: the first is not counted) */
  if (!one) return 1;
  const bool faster_par = jl_par_wins(par, one);
  if (now >= JL_PAR_LOAD(&s->explore)) {
    const int64_t b = JL_PAR_LOAD(&s->backoff);
    JL_PAR_STORE(&s->explore, now + JL_PAR_EXPLORE_NS * (b > 1 ? b : 1));
    return faster_par ? 1 : max;
  }
  return faster_par ? max : 1;
}

/* After an exploration (`nt` threads, `t` ps per unit): the site's interval (from the
 * exploration's start: the next one is moved), doubled while the way explored stays the slower
 * (by the same margin). One that finds it faster resets the interval and explores again at the
 * next region, until its mean has caught up or a time says otherwise: the means move by a
 * quarter per region, and one exploration per interval left bench_jit.py's MLP step on one
 * thread for the best part of a second after NumPy's BLAS threads, spinning in the same
 * process, had slowed its regions on two. */
__attribute__((unused)) static void jl_par_backoff(jl_par_state *s, int nt, int64_t t) {
  const int64_t par = JL_PAR_LOAD(&s->par), one = JL_PAR_LOAD(&s->one);
  const bool won = nt > 1 ? jl_par_wins(t, one) : !jl_par_wins(par, t);
  int64_t b = JL_PAR_LOAD(&s->backoff);
  b = b > 1 ? b : 1;
  const int64_t nb = won ? 1 : 2 * b < JL_PAR_BACKOFF ? 2 * b : JL_PAR_BACKOFF;
  JL_PAR_STORE(&s->backoff, nb);
  JL_PAR_STORE(&s->explore, won ? 0 : JL_PAR_LOAD(&s->explore) + JL_PAR_EXPLORE_NS * (nb - b));
}

/* After a region's time moved a mean (`was_par`: whether every thread was the faster way
 * before it): where the faster way changed, the site's interval starts again from
 * JL_PAR_EXPLORE_NS, from `now`. The backoff was earned by explorations that confirmed the way
 * no longer in use: kept, it left the site on the way it had just switched to for up to
 * JL_PAR_BACKOFF x JL_PAR_EXPLORE_NS after what switched it ended (bench_jit.py's MLP step on
 * one thread for 0.8 s after NumPy's OpenBLAS threads, spinning in the same process for 0.1 s
 * after its products, slowed its regions on two). An exploration that switched the way is not
 * also backed off (its way is now the one in use). True where it switched. */
__attribute__((unused)) static bool jl_par_flip(jl_par_state *s, bool was_par, int64_t now) {
  const int64_t par = JL_PAR_LOAD(&s->par), one = JL_PAR_LOAD(&s->one);
  if (!par || !one || jl_par_wins(par, one) == was_par) return false;
  JL_PAR_STORE(&s->backoff, 1);
  JL_PAR_STORE(&s->explore, now + JL_PAR_EXPLORE_NS);
  return true;
}

/* ... and the running mean of the way that ran: `nt` threads, `ns` nanoseconds for `work`
 * units; the first region of each way is not counted, and a time counts at most twice the mean
 * (one region the scheduler held up moves it little). Returns the new mean (ps per unit; 0:
 * still none). */
__attribute__((unused)) static int64_t jl_par_update(jl_par_state *s, int nt, int64_t ns,
                                                     double work) {
  const int64_t bit = nt > 1 ? 1 : 2, seen = JL_PAR_LOAD(&s->seen);
  if (!(seen & bit)) {
    JL_PAR_STORE(&s->seen, seen | bit);
    return 0;
  }
  int64_t *mean = nt > 1 ? &s->par : &s->one;
  int64_t t = (int64_t)(1000.0 * (double)ns / (work > 1 ? work : 1)), old = JL_PAR_LOAD(mean);
  if (t < 1) t = 1;
  if (old && t > 2 * old) t = 2 * old;
  const int64_t m = old ? old + (t - old) / JL_PAR_EMA : t;
  JL_PAR_STORE(mean, m > 0 ? m : 1);
  return m;
}

/* Sets r->nt: 1 inside another region or with one thread available; else as jl_par_threads
 * decides for a region of `work` units (any measure proportional to its time: the site's
 * regions must use the same one). */
__attribute__((unused)) static void jl_par_begin(jl_par_state *s, jl_par_region *r, double work) {
  r->nt = 1;
  r->timed = false;
  r->explored = false;
  r->work = work;
#ifdef _OPENMP
  if (omp_in_parallel()) return;
  const int max = omp_get_max_threads();
  if (max <= 1) return;
  const int mode = jl_par_mode();
  if (mode == 0) jl_par_record_team(max); /* (before the region's clock starts) */
  r->t0 = jl_par_now();
  const int64_t explore = JL_PAR_LOAD(&s->explore);
  r->timed = mode == 0;
  if (r->timed) {
    const int busy = jl_par_busy(r->t0) + jl_par_own(r->t0);
    if (busy) {
      const int free_cpus = jl_par_ncpus() - busy;
      if (free_cpus <= 1) return; /* the caller alone, timed as such */
      if (free_cpus < max) {      /* the free CPUs, not timed: the site's means are of 1 and max */
        r->nt = free_cpus;
        r->timed = false;
        return;
      }
    }
  }
  r->nt = jl_par_threads(s, max, r->t0, mode);
  r->explored = r->timed && JL_PAR_LOAD(&s->par) && JL_PAR_LOAD(&s->one) && r->t0 >= explore;
#else
  (void)s;
#endif
}

/* After the region: its time goes into the site's mean for the way it ran. */
__attribute__((unused)) static void jl_par_end(jl_par_state *s, jl_par_region *r) {
  if (!r->timed) return;
  const int64_t now = jl_par_now(), ns = now - r->t0;
  const int64_t par = JL_PAR_LOAD(&s->par), one = JL_PAR_LOAD(&s->one);
  jl_par_update(s, r->nt, ns, r->work);
  if (par && one && jl_par_flip(s, jl_par_wins(par, one), now)) return;
  if (r->explored)
    jl_par_backoff(s, r->nt, (int64_t)(1000.0 * (double)ns / (r->work > 1 ? r->work : 1)));
}

#endif /* JL_THREADS_H */
