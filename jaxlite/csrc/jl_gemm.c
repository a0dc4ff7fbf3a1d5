/* jl_gemm.c: jaxlite's runtime library: the matrix products of dot_general, C = A B, row-major.
 *
 * Unlike the headers, this file is not compiled into every kernel: jaxlite/backend/compile.py
 * builds it once per machine (and per compiler, flags and csrc/ version) into the compile cache,
 * loads it before any kernel that multiplies matrices, and those kernels call it through the
 * declarations of jl_blas.h. The packed kernel below took gcc -O3 about 1 s to compile, which
 * every kernel with a product paid when it was a header.
 *
 * Its exported names carry a tag (JL_RT_TAG, from the build's cache key; see jl_blas.h) so that
 * two builds loaded in one process (with and without BLAS, say) never stand in for each other.
 *
 * With JL_HAVE_BLAS defined (compile.py defines it, with the include and library directories
 * of the scipy-openblas32 wheel) large products call cblas_sgemm / cblas_dgemm where its
 * kernels are as wide as ours; without it, our own kernels compute every product, and a plain
 * C loop nest the ones beyond them (sizes past BLAS's 32-bit integers, no vector extension).
 *
 * A is m x k, stored transposed (as k x m) when ta; B is k x n, stored transposed when tb;
 * lda, ldb, ldc are the row strides of the stored matrices, in elements.
 */
#include "jaxlite.h"
#include "jl_blas.h"
#include <time.h> /* clock_gettime, for jl_rt_gemm_time */
#ifdef JL_HAVE_BLAS
#include <cblas.h>
#endif
/* The vector kernels (GCC vector extension). JL_RT_BASIC (compile.py's first tier, built in
 * a fraction of a second while the full library compiles in the background) leaves out the
 * product kernels: BLAS and plain loops take every product, as without the extension. */
#if defined(__GNUC__) && !defined(JL_RT_BASIC)
#define JL_RT_VECTOR 1
#endif
#ifdef _OPENMP
#include <omp.h>
#define JL_OMP_NUM_THREADS() omp_get_num_threads()
#define JL_OMP_THREAD_NUM() omp_get_thread_num()
/* NB: inside another parallel region (a kernel's loop calling a product) nested regions run on
 * one thread: take the serial path directly. */
#define JL_OMP_THREADS_FREE() (!omp_in_parallel() && omp_get_max_threads() > 1)
#else
#define JL_OMP_NUM_THREADS() 1
#define JL_OMP_THREAD_NUM() 0
#define JL_OMP_THREADS_FREE() false
#endif

/* The thread count of the products' parallel regions: csrc/jl_threads.h, one state per product
 * site: per kind of region (JL_SITE_* below: the kernel, whether it updates, which operands are
 * transposed) and shape (m, n, k), so that each product of a step has its own running means
 * (one state per kind mixed a step's products: one product faster on two threads and another
 * slower on them shared one decision). Keyed in a small open-addressed table; a shape past it
 * shares one state per kind. A state is a hint: a lost race costs one decision, never a result.
 * The convolutions keep one state. */
enum { JL_SITE_PACKED = 0, JL_SITE_BLAS = 1, JL_SITE_SMALL = 2, JL_SITE_SMALL_NT = 3,
       JL_SITE_KINDS = 4 };
#define JL_SITE_SLOTS 256 /* a power of two */
typedef struct {
  uint64_t key; /* 0: free */
  jl_par_state s;
} jl_par_slot;
static jl_par_slot jl_par_slots_[JL_SITE_SLOTS];
__attribute__((unused)) static jl_par_state jl_par_spill_[JL_SITE_KINDS * 8], jl_par_conv_;
__attribute__((unused)) static jl_par_state *jl_par_site(int kind, int flags, int64_t m,
                                                         int64_t n, int64_t k) {
  uint64_t key = (uint64_t)(kind * 8 + flags) * 0x9E3779B97F4A7C15ull;
  key = (key ^ (uint64_t)m) * 0xC2B2AE3D27D4EB4Full;
  key = (key ^ (uint64_t)n) * 0x165667B19E3779F9ull;
  key = (key ^ (uint64_t)k) * 0x27D4EB2F165667C5ull;
  key = (key ^ (key >> 31)) | 1;
  for (int i = 0; i < 16; i++) {
    jl_par_slot *e = &jl_par_slots_[(key + (uint64_t)i) & (JL_SITE_SLOTS - 1)];
#if defined(__GNUC__)
    uint64_t cur = __atomic_load_n(&e->key, __ATOMIC_ACQUIRE);
    if (cur == key) return &e->s;
    if (cur == 0) {
      if (__atomic_compare_exchange_n(&e->key, &cur, key, false, __ATOMIC_ACQ_REL,
                                      __ATOMIC_ACQUIRE) ||
          cur == key)
        return &e->s;
    }
#else
    if (e->key == key) return &e->s;
    if (e->key == 0) {
      e->key = key;
      return &e->s;
    }
#endif
  }
  return &jl_par_spill_[(kind * 8 + flags) % (JL_SITE_KINDS * 8)];
}
/* The multiply-adds from which a product's region may run on several threads (each site's
 * policy then decides whether it does): the packed kernel and BLAS in slabs (NB: a BLAS slab
 * may round differently from the whole product, so the slabs begin where they always did), and
 * the small kernels (bands of whole tiles: the same bits on any thread count), from 2^21: above
 * a transformer's per-head products (128 x 64 x 128, 2^20: about 10 us each on one core, a loop
 * of them better shared by heads than split), below a batch of 32 through a dense layer of
 * 512 x 512 (2^23: 200 us on one core). */
#ifndef JL_PAR_MIN_PACKED
#define JL_PAR_MIN_PACKED 4194304
#endif
#ifndef JL_PAR_MIN_BLAS
#define JL_PAR_MIN_BLAS 4194304
#endif
#ifndef JL_PAR_MIN_SMALL
#define JL_PAR_MIN_SMALL 2097152
#endif
#ifndef JL_PAR_BANDS
#define JL_PAR_BANDS 4 /* bands per thread: a late worker's part is taken by the others */
#endif
/* A buffer of at least `nbytes`, 64-byte aligned, kept by the calling thread for its next
 * products (the packed kernel's worker threads: each call allocated 1 MB or so, and glibc may
 * map and fault it in afresh); NULL past JL_THREAD_BUF_MAX or where none can be had (the kernel
 * then allocates its own). */
#define JL_THREAD_BUF_MAX ((size_t)16 << 20)
#if defined(__GNUC__)
static __thread char *jl_thread_buf_;
static __thread size_t jl_thread_buf_bytes_;
__attribute__((unused)) static void *jl_thread_buf(size_t nbytes) {
  if (nbytes <= jl_thread_buf_bytes_) return jl_thread_buf_;
  if (nbytes > JL_THREAD_BUF_MAX) return NULL;
  char *p = jl_alloc(nbytes);
  if (!p) return NULL;
  free(jl_thread_buf_);
  jl_thread_buf_ = p;
  jl_thread_buf_bytes_ = nbytes;
  return p;
}
#else
#define jl_thread_buf(nbytes) NULL
#endif
#ifdef JL_PAR_DEBUG
#include <stdio.h>
__attribute__((destructor)) static void jl_par_dump_(void) {
  for (int i = 0; i < JL_SITE_SLOTS; i++)
    if (jl_par_slots_[i].key)
      fprintf(stderr, "site %016llx par %lld one %lld backoff %lld count %lld\n",
              (unsigned long long)jl_par_slots_[i].key, (long long)jl_par_slots_[i].s.par,
              (long long)jl_par_slots_[i].s.one, (long long)jl_par_slots_[i].s.backoff,
              (long long)jl_par_slots_[i].s.count);
  fprintf(stderr, "busy %d\n", jl_par_busy_);
}
#endif
/* While the kernel choice is timed (jl_rt_gemm_time): every product on the calling thread, so
 * that the table compares the kernels on one core (their threads split C alike). */
static int jl_par_timing_ = 0;
/* The state of a product site where it may run on threads: `mnk` multiply-adds from `min` and
 * threads free; else NULL (the caller alone, untimed). */
__attribute__((unused)) static jl_par_state *jl_par_product_site(int kind, int flags, int64_t m,
                                                                 int64_t n, int64_t k,
                                                                 int64_t min) {
  if (m * n * k < min || JL_PAR_LOAD(&jl_par_timing_) || !JL_OMP_THREADS_FREE()) return NULL;
  return jl_par_site(kind, flags, m, n, k);
}
/* BLAS runs on one thread per call: large products call it from several threads, one slab of C
 * each (JL_GEMM below), in regions whose thread count jl_threads.h decides. OpenBLAS's own
 * threads cannot be told to leave the work to the caller when they are late (measured on the
 * 2-core EPYC beside two busy processes: the MLP step of bench_jit.py took 50-68 ms on them,
 * 9.5 ms on one thread). jl_blas_threads_: the threads OpenBLAS was given (OPENBLAS_NUM_THREADS
 * and the like), the most that a product's slabs use. */
static int jl_blas_threads_ = 1;
#ifndef JL_BLAS_SLABS
#define JL_BLAS_SLABS 4 /* slabs per thread: a late worker's part is taken by the others */
#endif
#ifdef JL_HAVE_BLAS
__attribute__((constructor)) static void jl_blas_threads_init_(void) {
  jl_blas_threads_ = scipy_openblas_get_num_threads();
  if (jl_blas_threads_ > 1) scipy_openblas_set_num_threads(1);
}
#endif

#define JL_GEMM_LOOPS(T, S)                                                                    \
  JL_INLINE void jl_gemm_loops_##S(bool ta, bool tb, int64_t m, int64_t n, int64_t k,          \
                                   const T *a, int64_t lda, const T *b, int64_t ldb, T *c,     \
                                   int64_t ldc) {                                              \
    for (int64_t i = 0; i < m; i++) {                                                          \
      T *ci = c + i * ldc;                                                                     \
      for (int64_t j = 0; j < n; j++) ci[j] = 0;                                               \
      for (int64_t p = 0; p < k; p++) {                                                        \
        const T aip = ta ? a[p * lda + i] : a[i * lda + p];                                    \
        if (tb) {                                                                              \
          for (int64_t j = 0; j < n; j++) ci[j] += aip * b[j * ldb + p];                       \
        } else {                                                                               \
          const T *bp = b + p * ldb;                                                           \
          for (int64_t j = 0; j < n; j++) ci[j] += aip * bp[j];                                \
        }                                                                                      \
      }                                                                                        \
    }                                                                                          \
  }
JL_GEMM_LOOPS(float, f32)
JL_GEMM_LOOPS(double, f64)

/* Small products: register-blocked kernels with no library call. A tile of rows x vectors
 * (JL_SM_MR x JL_SM_NV below) keeps its accumulators in registers; A(i, p) = a[i * sai +
 * p * sap], so a transposed A costs nothing; a transposed or ragged B is first packed on the stack as k x npad (zero padded).
 * Which products they take is JL_SMALL_SIZE_OK below. tests/test_small_gemm.py checks every
 * path. GCC's vector extension, as wide as the target's vectors (JL_VBYTES). */
#if defined(JL_RT_VECTOR)
/* NB: the vector width of the target (gcc splits wider vectors: on AVX2, 64-byte vectors made
 * the 4 x 4 tile 32 ymm accumulators, twice the registers) */
#if defined(__AVX512F__) || !defined(__AVX__)
#define JL_VBYTES 64
#else
#define JL_VBYTES 32
#endif
#define JL_VEC_W_f32 (JL_VBYTES / 4)
#define JL_VEC_W_f64 (JL_VBYTES / 8)
/* NB: kernels are compiled with -ffp-contract=off (elementwise results as NumPy's); a product's
 * rounding is BLAS's business (it fuses too): fused multiply-adds in the small and packed
 * kernels below, one instruction instead of two (32x512x784 on one Zen 4 core: see the commit).
 * The plain loops (jl_gemm_loops) keep separate roundings. */
#if defined(__clang__)
#pragma clang fp contract(fast)
#else
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")
#endif
typedef float jl_vf32 __attribute__((vector_size(JL_VBYTES)));
typedef double jl_vf64 __attribute__((vector_size(JL_VBYTES)));
/* Where the small kernel beats BLAS: everywhere up to 128^3 multiply-adds, and at any height
 * when B is at most 128 x 128 (it stays in L2), when BLAS's kernels are narrower than ours
 * (OpenBLAS picks its AVX2 "Haswell" kernels on AMD's AVX-512 EPYC, and this project's machines
 * set OPENBLAS_CORETYPE=Haswell: 113-117 GFLOP/s on one core, against 160-185 for this kernel
 * at 32x64x64 .. 128^3); only for tiny products and outputs narrower than one vector when
 * BLAS's are as wide (SkylakeX kernels: 200-236 GFLOP/s). */
#define JL_SMALL_WIDE_OK(m, n, k, W) \
  ((m) * (n) * (k) <= 128 * 128 * 128 || ((k) <= 128 && (n) <= 128))
#define JL_SMALL_NARROW_OK(m, n, k, W) ((m) * (n) * (k) <= 4096 || (n) < (W))
#if defined(JL_HAVE_BLAS) && defined(__AVX512F__)
static int jl_blas_narrower_ = -1; /* NB: a benign race: every thread stores the same value */
JL_INLINE bool jl_blas_narrower(void) {
  if (jl_blas_narrower_ < 0) {
    const char *c = scipy_openblas_get_corename();
    jl_blas_narrower_ = !(c && (strstr(c, "kylake") || strstr(c, "ooperlake") ||
                                strstr(c, "apphire")));
  }
  return jl_blas_narrower_;
}
#define JL_SMALL_SIZE_OK(m, n, k, W) \
  (jl_blas_narrower() ? JL_SMALL_WIDE_OK(m, n, k, W) : JL_SMALL_NARROW_OK(m, n, k, W))
#elif defined(JL_HAVE_BLAS) && defined(__AVX2__) && defined(__FMA__)
/* AVX2 builds against OpenBLAS's Haswell kernels, as wide as ours: the 6 x 2 tiles in row panels
 * tie or beat them (one Zen 4 core, -mno-avx512f, f32, us: 32x64x64 2.6-2.8 vs 2.9-3.0,
 * 128^3 38-41 vs 40-41, 512x64x128 76-80 vs 80-82, 32000x64x64 3293 vs 4206); not with B
 * transposed, which it packs first (attention's 32 x 128x64x128: 1287 against 1098 us) */
#define JL_SMALL_SIZE_OK(m, n, k, W) JL_SMALL_WIDE_OK(m, n, k, W)
#define JL_SMALL_TB_OK(m, n, k, W) JL_SMALL_NARROW_OK(m, n, k, W)
#elif defined(JL_HAVE_BLAS)
#define JL_SMALL_SIZE_OK(m, n, k, W) JL_SMALL_NARROW_OK(m, n, k, W)
#else
#define JL_SMALL_SIZE_OK(m, n, k, W) JL_SMALL_WIDE_OK(m, n, k, W)
#endif
/* The small kernel's tiles: JL_SM_MR rows x JL_SM_NV vectors while whole blocks of JL_SM_NV
 * vectors remain, then JL_SM_MR1 x 1 (rows past the last whole tile: 4-row, then 1-row tiles).
 * With 32 vector registers (AVX-512), 8 x 3 and 12 x 1: 24 and 12 accumulators; measured on one
 * Zen 4 core (f32, us): 32x512x784 286 -> 226, 784x512x32 301 -> 243, 128x128x128 45 -> 37
 * against 4 x 4 (OpenBLAS 298, 274, 42; 6 x 4 within 10% of 8 x 3, 12 x 2 behind both). With
 * 16 (AVX2, SSE), 6 x 2 and 12 x 1: 12 accumulators, 2 vectors of B and a broadcast in 15
 * registers. Measured on one Zen 4 core built with -mno-avx512f (f32, us; GFLOP/s):
 *            32x64x64  128^3       128x64x128  512x64x128  32x512x784  784x512x32
 *   4 x 4    12.5 (21) 197.8 (21)  98.5 (21)   394.7 (21)  1224 (21)   1271 (20)
 *   6 x 2     2.7 (96)  40.8 (103) 20.3 (103)   78.7 (107)  369 (70)    308 (84)
 *   5 x 2     2.7 (96)  43.2 (97)  21.4 (98)    82.1 (102)  408 (63)    339 (76)
 *   4 x 2     3.7 (70)  80.8 (52)  40.1 (52)   160.2 (52)   608 (42)    631 (41)
 *   4 x 3    11.9 (22) 222.3 (19)  94.2 (22)   375.1 (22)  1471 (18)   1484 (17)
 *   3 x 4    16.0 (16) 239.6 (18) 118.6 (18)   467.8 (18)  1605 (16)   1516 (17)
 * (4 x 4, 4 x 3 and 3 x 4 keep their accumulators on the stack: 17 to 21 registers wanted;
 * OpenBLAS's Haswell kernels: 2.9, 40.6, 20.8, 91.2, 266, 266; 12 x 1 and 8 x 1 alike.) */
#if defined(__AVX512F__)
#define JL_SM_NV 3
#define JL_SM_MR 8
#define JL_SM_MR1 12
#else
#define JL_SM_NV 2
#define JL_SM_MR 6
#define JL_SM_MR1 12
#endif
#ifndef JL_SMALL_TB_OK
#define JL_SMALL_TB_OK(m, n, k, W) JL_SMALL_SIZE_OK(m, n, k, W) /* B transposed: the same rule */
#endif
#define JL_SM_MAXR 12 /* the most rows a tile has */
/* an update's blocks (jl_small_upd_blocks): rows (a multiple of the tiles' 8 and 12), columns
 * (whole blocks of 3 vectors), B's bytes at most */
#define JL_SM_BAND 24
#define JL_SM_BAND_N 528
#define JL_SM_BAND_B 262144
/* B transposed (jl_small_gemm_nt): C^T computed in blocks of JL_NT_JB rows on the stack; m
 * (C^T's width) at most JL_NT_MAXM; with two vectors of columns (m = 32 in f32 on AVX-512) a
 * 12 x 2 tile (24 accumulators) instead of two passes of 12 x 1. */
#define JL_NT_JB 64
#ifndef JL_GEMM_NO_ALLOC /* (see below) */
#define JL_GEMM_NO_ALLOC 0
#endif
#define JL_NT_MAXM 128
#define JL_NT_PACK_MAX 65536 /* A^T's elements (k x m rounded up) the path takes at most */
#if defined(__AVX512F__)
#define JL_NT_NV2 1
#define JL_NT_MR2 12
#else
#define JL_NT_NV2 0
#define JL_NT_MR2 4
#endif
/* An empty asm that takes x in a register (or memory): the compiler cannot fuse the multiply
 * that made x with the add that follows (this file fuses products' multiply-adds; an update
 * `cin + alpha * (A B)` keeps the two roundings of the unfused kernels' code). */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__AVX__) && \
    (JL_VBYTES == 32 || defined(__AVX512F__))
#define JL_NO_CONTRACT(x) __asm__("" : "+x"(x))
#else
#define JL_NO_CONTRACT(x) __asm__("" : "+m"(x))
#endif
#define JL_NO_CONTRACT_SCALAR(x) __asm__("" : "+m"(x))
#define JL_SMALL_PACK 16384 /* elements of B packed (tb, ragged n): the caller's scratch or the stack */
#define JL_SMALL_PANEL 240 /* rows per panel: a multiple of every tile height (4, 6, 8, 12) */

#define JL_SMALL_GEMM(T, S, W)                                                                   \
  /* cin: C = cin + alpha (A B) instead (cin rows ldcin apart) */                              \
  __attribute__((always_inline)) JL_INLINE void jl_small_tile_upd_##S(                         \
      int mr, int nv, int64_t k, const T *a, int64_t sai, int64_t sap, const T *b, int64_t ldb,\
      T *c, int64_t ldc, bool load, int64_t sv, const T *cin, int64_t ldcin, const T *alpha) {   \
    /* B's vector v of row p at b + p * ldb + v * sv; C read first (accumulated into) if load */ \
    if (cin) /* the update's operand and destination, requested while the tile computes */     \
      for (int r = 0; r < mr; r++)                                                               \
        for (int v = 0; v < nv; v++) {                                                           \
          __builtin_prefetch(cin + r * ldcin + W * v, 0);                                        \
          __builtin_prefetch(c + r * ldc + W * v, 1);                                            \
        }                                                                                        \
    jl_v##S acc[JL_SM_MAXR][4];                                                                  \
    for (int r = 0; r < mr; r++)                                                                 \
      for (int v = 0; v < nv; v++) {                                                             \
        if (load)                                                                                \
          memcpy(&acc[r][v], c + r * ldc + W * v, sizeof(jl_v##S));                              \
        else                                                                                     \
          acc[r][v] = (jl_v##S){0};                                                              \
      }                                                                                          \
    for (int64_t p = 0; p < k; p++) {                                                            \
      jl_v##S bv[4];                                                                             \
      for (int v = 0; v < nv; v++) memcpy(&bv[v], b + p * ldb + sv * v, sizeof(jl_v##S));       \
      for (int r = 0; r < mr; r++) {                                                             \
        const T ar = a[r * sai + p * sap];                                                       \
        for (int v = 0; v < nv; v++) acc[r][v] += ar * bv[v];                                    \
      }                                                                                          \
    }                                                                                            \
    for (int r = 0; r < mr; r++)                                                                 \
      for (int v = 0; v < nv; v++) {                                                             \
        if (cin) { /* alpha (A B) rounded, then added: as the unfused `cin + alpha * c` */      \
          jl_v##S t = *alpha * acc[r][v], o; /* (alpha read here: no register in the loop) */    \
          JL_NO_CONTRACT(t);                                                                     \
          memcpy(&o, cin + r * ldcin + W * v, sizeof(jl_v##S));                                  \
          acc[r][v] = o + t;                                                                     \
        }                                                                                        \
        memcpy(c + r * ldc + W * v, &acc[r][v], sizeof(jl_v##S));                               \
      }                                                                                          \
  }                                                                                              \
  __attribute__((always_inline)) JL_INLINE void jl_small_tile_##S(                             \
      int mr, int nv, int64_t k, const T *a, int64_t sai, int64_t sap, const T *b, int64_t ldb,\
      T *c, int64_t ldc, bool load, int64_t sv) {                                                \
    jl_small_tile_upd_##S(mr, nv, k, a, sai, sap, b, ldb, c, ldc, load, sv, NULL, 0, NULL);    \
  }                                                                                              \
  /* Columns [0, nv vectors) of C, every row: tiles of mr rows, then of 4, then one of 1-3    \
   * (mr and nv constant at each call, so each tile's accumulators stay in registers). */      \
  __attribute__((always_inline)) JL_INLINE void jl_small_cols_##S(                             \
      int mr, int nv, int64_t m, int64_t k, const T *a, int64_t sai, int64_t sap, const T *b,   \
      int64_t ldb, T *c, int64_t ldc, const T *cin, int64_t ldcin, const T *alpha) {             \
    int64_t i = 0;                                                                               \
    /* one mr-row tile fewer where the rows left then make whole 4-row tiles (32 rows in 6-row \
     * tiles: 4 of them and 2 of 4 rows, not 5 and 2 single rows, each as slow as a whole tile) */ \
    int64_t end = m / mr * mr;                                                                   \
    if ((m - end) % 4 && end >= mr && (m - end + mr) % 4 == 0) end -= mr;                        \
    if (mr != 4)                                                                                 \
      for (; i + mr <= end; i += mr)                                                             \
        jl_small_tile_upd_##S(mr, nv, k, a + i * sai, sai, sap, b, ldb, c + i * ldc, ldc, false, \
                              W, cin ? cin + i * ldcin : NULL, ldcin, alpha);                    \
    for (; i + 4 <= m; i += 4)                                                                   \
      jl_small_tile_upd_##S(4, nv, k, a + i * sai, sai, sap, b, ldb, c + i * ldc, ldc, false, W, \
                            cin ? cin + i * ldcin : NULL, ldcin, alpha);                        \
    /* the last 1-3 rows: one tile (single rows were latency-bound: 32x512x784 on AVX2 in 6-row \
     * tiles 373 -> 311 us) */                                                                  \
    const T *ci_ = cin ? cin + i * ldcin : NULL;                                                \
    if (m - i == 3)                                                                             \
      jl_small_tile_upd_##S(3, nv, k, a + i * sai, sai, sap, b, ldb, c + i * ldc, ldc, false, W, \
                            ci_, ldcin, alpha);                                                 \
    else if (m - i == 2)                                                                        \
      jl_small_tile_upd_##S(2, nv, k, a + i * sai, sai, sap, b, ldb, c + i * ldc, ldc, false, W, \
                            ci_, ldcin, alpha);                                                 \
    else if (m - i == 1)                                                                        \
      jl_small_tile_upd_##S(1, nv, k, a + i * sai, sai, sap, b, ldb, c + i * ldc, ldc, false, W, \
                            ci_, ldcin, alpha);                                                 \
  }                                                                                              \
  JL_INLINE bool jl_small_ok_##S(bool tb, int64_t m, int64_t n, int64_t k) {                     \
    const int64_t npad = (n + W - 1) / W * W;                                                    \
    return (tb ? JL_SMALL_TB_OK(m, n, k, W) : JL_SMALL_SIZE_OK(m, n, k, W)) &&                  \
           ((!tb && n % W == 0) || k * npad <= JL_SMALL_PACK);                                   \
  }                                                                                              \
  /* mr rows of nc columns of a tile computed into `part` (ldp apart) stored at c, or with cin  \
   * C = cin + alpha (A B), rounded as the unfused code */                                      \
  __attribute__((always_inline)) JL_INLINE void jl_small_out_##S(                               \
      int mr, int64_t nc, const T *part, int64_t ldp, T *c, int64_t ldc, const T *cin,          \
      int64_t ldcin, const T *alpha) {                                                          \
    for (int r = 0; r < mr; r++) {                                                              \
      if (cin)                                                                                  \
        for (int64_t q = 0; q < nc; q++) {                                                      \
          T t = *alpha * part[r * ldp + q];                                                     \
          JL_NO_CONTRACT_SCALAR(t);                                                             \
          c[r * ldc + q] = cin[r * ldcin + q] + t;                                              \
        }                                                                                       \
      else                                                                                      \
        memcpy(c + r * ldc, part + r * ldp, (size_t)nc * sizeof(T));                            \
    }                                                                                           \
  }                                                                                             \
  /* pack: k x n rounded up to whole vectors (at most JL_SMALL_PACK) elements where B is     \
   * transposed or ragged, or NULL (then on the stack); cin: C = cin + alpha (A B) */            \
  /* All columns of rows [0, m): blocks of JL_SM_NV vectors, single vectors, then the ragged \
   * ones (B k x whole vectors here) */                                                          \
  __attribute__((always_inline)) JL_INLINE void jl_small_band_##S(                             \
      int64_t m, int64_t n, int64_t k, const T *a, int64_t sai, int64_t sap, const T *b,        \
      int64_t ldb, T *c, int64_t ldc, const T *cin, int64_t ldcin, const T *alpha, T *panel) {   \
    const int64_t nfull = n - n % W;                                                             \
    int64_t j = 0;                                                                               \
    for (; j + JL_SM_NV * W <= nfull; j += JL_SM_NV * W) {                                       \
      if (panel) { /* B's columns [j, j + JL_SM_NV W) copied k x JL_SM_NV W: see the caller */   \
        for (int64_t p = 0; p < k; p++)                                                          \
          memcpy(panel + p * JL_SM_NV * W, b + p * ldb + j, JL_SM_NV * W * sizeof(T));           \
        jl_small_cols_##S(JL_SM_MR, JL_SM_NV, m, k, a, sai, sap, panel, JL_SM_NV * W, c + j, ldc, \
                          cin ? cin + j : NULL, ldcin, alpha);                                   \
        continue;                                                                                \
      }                                                                                          \
      jl_small_cols_##S(JL_SM_MR, JL_SM_NV, m, k, a, sai, sap, b + j, ldb, c + j, ldc,           \
                        cin ? cin + j : NULL, ldcin, alpha);                                     \
    }                                                                                            \
    if (n % W && n - j > (JL_SM_NV - 1) * W) {                                                  \
      /* the last JL_SM_NV vectors, the last one ragged (B is packed: zeros past n): whole      \
       * tiles into `part`, then stored; A read once for them (128x10x784 on AVX2, 8 + 2        \
       * columns: 51.6 -> 31 us, OpenBLAS Haswell 32) */                                        \
      T part[JL_SM_MAXR * 4 * W];                                                               \
      const int64_t ldp = JL_SM_NV * W;                                                         \
      for (int64_t i = 0; i < m;) {                                                             \
        const int mr = m - i >= JL_SM_MR ? JL_SM_MR : m - i >= 4 ? 4 : (int)(m - i);            \
        const T *ai = a + i * sai;                                                              \
        if (mr == JL_SM_MR)                                                                     \
          jl_small_tile_##S(JL_SM_MR, JL_SM_NV, k, ai, sai, sap, b + j, ldb, part, ldp, false, W); \
        else if (mr == 4)                                                                       \
          jl_small_tile_##S(4, JL_SM_NV, k, ai, sai, sap, b + j, ldb, part, ldp, false, W);     \
        else if (mr == 3)                                                                       \
          jl_small_tile_##S(3, JL_SM_NV, k, ai, sai, sap, b + j, ldb, part, ldp, false, W);     \
        else if (mr == 2)                                                                       \
          jl_small_tile_##S(2, JL_SM_NV, k, ai, sai, sap, b + j, ldb, part, ldp, false, W);     \
        else                                                                                    \
          jl_small_tile_##S(1, JL_SM_NV, k, ai, sai, sap, b + j, ldb, part, ldp, false, W);     \
        jl_small_out_##S(mr, n - j, part, ldp, c + i * ldc + j, ldc,                            \
                         cin ? cin + i * ldcin + j : NULL, ldcin, alpha);                       \
        i += mr;                                                                                \
      }                                                                                         \
      return;                                                                                   \
    }                                                                                           \
    for (; j < nfull; j += W)                                                                   \
      jl_small_cols_##S(JL_SM_MR1, 1, m, k, a, sai, sap, b + j, ldb, c + j, ldc,                \
                        cin ? cin + j : NULL, ldcin, alpha);                                    \
    if (j < n) { /* the last n % W columns: a whole-vector tile into `part`, then stored */     \
      /* (JL_SM_MR1-row tiles first: 4 accumulators were latency-bound, 128x10x784 on AVX2,     \
       * whose last 2 columns are ragged, 69 -> 41 us, OpenBLAS Haswell 50) */                  \
      T part[JL_SM_MAXR * W];                                                                   \
      for (int64_t i = 0; i < m;) {                                                             \
        const int mr = m - i >= JL_SM_MR1 ? JL_SM_MR1 : m - i >= 4 ? 4 : 1;                     \
        if (mr == JL_SM_MR1)                                                                    \
          jl_small_tile_##S(JL_SM_MR1, 1, k, a + i * sai, sai, sap, b + j, ldb, part, W, false, W); \
        else if (mr == 4)                                                                       \
          jl_small_tile_##S(4, 1, k, a + i * sai, sai, sap, b + j, ldb, part, W, false, W);     \
        else                                                                                    \
          jl_small_tile_##S(1, 1, k, a + i * sai, sai, sap, b + j, ldb, part, W, false, W);     \
        jl_small_out_##S(mr, n - j, part, W, c + i * ldc + j, ldc,                              \
                         cin ? cin + i * ldcin + j : NULL, ldcin, alpha);                       \
        i += mr;                                                                                \
      }                                                                                         \
    }                                                                                           \
  }                                                                                             \
  /* The update where B's blocks are small (k x JL_SM_BAND_N at most JL_SM_BAND_B bytes: they  \
   * stay in L2): blocks of JL_SM_BAND rows x JL_SM_BAND_N columns of A B on the stack, then   \
   * C = cin + alpha (A B) row by row: cin read and C written in long streams, as the hardware \
   * prefetcher follows (784 x 512 x 32, a weight's gradient and update, one core, weights   \
   * not in cache: 460 us as the product then a pass, 500 with the update in each tile's      \
   * store, 410 so). */                                                                        \
  __attribute__((always_inline)) JL_INLINE void jl_small_upd_blocks_##S(                       \
      int64_t m, int64_t n, int64_t k, const T *a, int64_t sai, int64_t sap, const T *b,        \
      int64_t ldb, T *c, int64_t ldc, const T *cin, int64_t ldcin, T alpha) {                    \
    T blk[JL_SM_BAND * JL_SM_BAND_N];                                                            \
    const jl_v##S va = (jl_v##S){0} + alpha;                                                     \
    for (int64_t i0 = 0; i0 < m; i0 += JL_SM_BAND) {                                             \
      const int64_t mb = m - i0 < JL_SM_BAND ? m - i0 : JL_SM_BAND;                              \
      for (int64_t j0 = 0; j0 < n; j0 += JL_SM_BAND_N) {                                         \
        const int64_t nb = n - j0 < JL_SM_BAND_N ? n - j0 : JL_SM_BAND_N;                        \
        jl_small_band_##S(mb, nb, k, a + i0 * sai, sai, sap, b + j0, ldb, blk, nb, NULL, 0,      \
                          NULL, NULL);                                                           \
        for (int64_t r = 0; r < mb; r++) {                                                       \
          T *cr = c + (i0 + r) * ldc + j0;                                                       \
          const T *ir = cin + (i0 + r) * ldcin + j0, *br = blk + r * nb;                         \
          int64_t q = 0;                                                                         \
          for (; q + W <= nb; q += W) {                                                          \
            jl_v##S t, o;                                                                        \
            memcpy(&t, br + q, sizeof t);                                                        \
            t = va * t;                                                                          \
            JL_NO_CONTRACT(t);                                                                   \
            memcpy(&o, ir + q, sizeof o);                                                        \
            o = o + t;                                                                           \
            memcpy(cr + q, &o, sizeof o);                                                        \
          }                                                                                      \
          for (; q < nb; q++) {                                                                  \
            T t = alpha * br[q];                                                                 \
            JL_NO_CONTRACT_SCALAR(t);                                                            \
            cr[q] = ir[q] + t;                                                                   \
          }                                                                                      \
        }                                                                                        \
      }                                                                                          \
    }                                                                                            \
  }                                                                                              \
  /* Rows [0, m) x columns [0, n) of C with B k x n in place (rows ldb apart, whole vectors \
   * of columns): the update's blocks, or row panels of JL_SMALL_PANEL (A's panel stays in L2 \
   * while every column block reads it: a tall A was streamed from memory once per block:    \
   * 32000x64x64 on AVX2, 4513 -> 3293 us, OpenBLAS Haswell 4206); panel: a buffer of        \
   * JL_SMALL_PACK elements for B's column blocks, or NULL (read in place). */                  \
  __attribute__((always_inline)) JL_INLINE void jl_small_part_##S(                             \
      int64_t m, int64_t n, int64_t k, const T *a, int64_t sai, int64_t sap, const T *b,        \
      int64_t ldb, T *c, int64_t ldc, const T *cin, int64_t ldcin, const T *alpha, T *panel,     \
      bool blocks) {                                                                             \
    if (blocks) {                                                                                \
      jl_small_upd_blocks_##S(m, n, k, a, sai, sap, b, ldb, c, ldc, cin, ldcin, *alpha);         \
      return;                                                                                    \
    }                                                                                            \
    for (int64_t i0 = 0; i0 < m; i0 += JL_SMALL_PANEL)                                          \
      jl_small_band_##S(m - i0 < JL_SMALL_PANEL ? m - i0 : JL_SMALL_PANEL, n, k, a + i0 * sai,  \
                        sai, sap, b, ldb, c + i0 * ldc, ldc, cin ? cin + i0 * ldcin : NULL, ldcin, \
                        alpha, panel);                                                          \
  }                                                                                              \
  __attribute__((always_inline)) JL_INLINE void jl_small_gemm_body_##S(                       \
      bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T *a, int64_t lda, const T *b,   \
      int64_t ldb, T *c, int64_t ldc, T *pack, const T *cin, int64_t ldcin, const T *alpha) {    \
    const int64_t sai = ta ? 1 : lda, sap = ta ? lda : 1;                                        \
    /* B's rows a multiple of 2 KiB apart (512 floats: 32x512x784, a batch through a 784-512  \
     * layer) fall in few sets of L1, whose ways then hold few of a block's rows: each tile     \
     * read B from L2 (AVX2 build, one Zen 4 core: 63 GFLOP/s against 84 at 32x784x512). With  \
     * several row tiles to share it, each column block is first copied k x JL_SM_NV W. */      \
    const bool blocks = cin && k * JL_SM_BAND_N * (int64_t)sizeof(T) <= JL_SM_BAND_B;           \
    const bool panel = !tb && n % W == 0 && (ldb * (int64_t)sizeof(T)) % 2048 == 0 &&            \
                       m > JL_SM_MR && n >= JL_SM_NV * W && k * JL_SM_NV * W <= JL_SMALL_PACK &&  \
                       !blocks;                                                                  \
    T stack[(tb || n % W || panel) && !pack ? JL_SMALL_PACK : 1];                                \
    if (!pack) pack = stack;                                                                     \
    if (tb || n % W) { /* B as k x npad, zero padded: whole vectors for every column */         \
      const int64_t npad = (n + W - 1) / W * W;                                                  \
      for (int64_t p = 0; p < k; p++)                                                            \
        for (int64_t j = 0; j < npad; j++)                                                       \
          pack[p * npad + j] = j >= n ? (T)0 : tb ? b[j * ldb + p] : b[p * ldb + j];             \
      b = pack;                                                                                  \
      ldb = npad;                                                                                \
    }                                                                                            \
    /* On threads (jl_threads.h decides, per site): C in bands of the tiles the caller alone   \
     * computes, so the bits never depend on the threads: rows from multiples of JL_SM_BAND     \
     * (every tile height, the update's blocks) or, for short C, columns from multiples of      \
     * JL_SM_NV vectors; the last band takes the rest whole (its last tiles as the whole        \
     * product's). NB: not any split of whole vectors: an AVX2 build rounded a column of f64    \
     * differently in a 12 x 1 tile than in a 6 x 2 one (tests/test_gemm_threads.py). B (packed \
     * above) shared, each thread its own panel buffer. */                                     \
    jl_par_region r_ = {1, 0, 0, 0, 0};                                                          \
    const bool by_rows = m >= 2 * JL_SM_BAND;                                                    \
    const int64_t unit = by_rows ? JL_SM_BAND : JL_SM_NV * W;                                    \
    const int64_t len = by_rows ? m : n, units = len / unit; /* (the last band takes the rest) */ \
    jl_par_state *st_ = units < 2 ? NULL                                                         \
                        : jl_par_product_site(JL_SITE_SMALL, ta * 4 + tb * 2 + !!cin, m, n, k,   \
                                              JL_PAR_MIN_SMALL);                                 \
    if (st_) jl_par_begin(st_, &r_, (double)m * (double)n * (double)k);                         \
    if (r_.nt <= 1) {                                                                            \
      jl_small_part_##S(m, n, k, a, sai, sap, b, ldb, c, ldc, cin, ldcin, alpha,                 \
                        panel ? pack : NULL, blocks);                                            \
      if (st_) jl_par_end(st_, &r_);                                                             \
      return;                                                                                    \
    }                                                                                            \
    const int64_t want = (int64_t)r_.nt * JL_PAR_BANDS, nb = units < want ? units : want;        \
    _Pragma("omp parallel num_threads(r_.nt)") {                                                 \
      T own[panel ? JL_SMALL_PACK : 1];                                                          \
      _Pragma("omp for schedule(dynamic, 1) nowait")                                             \
      for (int64_t q = 0; q < nb; q++) {                                                         \
        const int64_t lo = units * q / nb * unit;                                                \
        const int64_t hi = q == nb - 1 ? len : units * (q + 1) / nb * unit;                      \
        if (by_rows)                                                                             \
          jl_small_part_##S(hi - lo, n, k, a + lo * sai, sai, sap, b, ldb, c + lo * ldc, ldc,    \
                            cin ? cin + lo * ldcin : NULL, ldcin, alpha, panel ? own : NULL,     \
                            blocks);                                                             \
        else                                                                                     \
          jl_small_part_##S(m, hi - lo, k, a, sai, sap, b + lo, ldb, c + lo, ldc,                \
                            cin ? cin + lo : NULL, ldcin, alpha, panel ? own : NULL, blocks);    \
      }                                                                                          \
    }                                                                                            \
    jl_par_end(st_, &r_);                                                                        \
  }                                                                                              \
  /* (two functions: the products without an update keep no register for one in their loops: \
   * with both in one, gcc spilled a vector of B in the 8 x 3 tile's loop) */                  \
  JL_INLINE void jl_small_gemm_##S(bool ta, bool tb, int64_t m, int64_t n, int64_t k,           \
                                   const T *a, int64_t lda, const T *b, int64_t ldb, T *c,       \
                                   int64_t ldc, T *pack) {                                       \
    jl_small_gemm_body_##S(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, pack, NULL, 0, NULL);        \
  }                                                                                              \
  JL_INLINE void jl_small_gemm_upd_##S(bool ta, bool tb, int64_t m, int64_t n, int64_t k,       \
                                       const T *a, int64_t lda, const T *b, int64_t ldb, T *c,   \
                                       int64_t ldc, T *pack, const T *cin, int64_t ldcin,        \
                                       const T *alpha) {                                         \
    if (!cin) __builtin_unreachable();                                                           \
    jl_small_gemm_body_##S(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, pack, cin, ldcin, alpha);    \
  }                                                                                              \
  /* C's columns in blocks [q0, q1) of JL_NT_JB (rows of C^T: computed on the stack, then    \
   * stored transposed); at: A^T, k x m rounded up to whole vectors (rows ldat apart) */        \
  JL_INLINE void jl_small_nt_blocks_##S(int64_t m, int64_t n, int64_t k, int64_t q0,             \
                                        int64_t q1, const T *at, int64_t ldat, const T *b,        \
                                        int64_t ldb, T *c, int64_t ldc) {                         \
    const int64_t mpad = (m + W - 1) / W * W, nvec = mpad / W;                                   \
    T ct[JL_NT_JB * JL_NT_MAXM]; /* rows [j0, j0 + jb) of C^T, mpad apart */                     \
    for (int64_t j0 = q0 * JL_NT_JB; j0 < n && j0 < q1 * JL_NT_JB; j0 += JL_NT_JB) {             \
      const int64_t jb = n - j0 < JL_NT_JB ? n - j0 : JL_NT_JB;                                  \
      const T *bj = b + j0 * ldb;                                                                \
      int64_t v = 0;                                                                             \
      if (JL_NT_NV2 && nvec == 2)                                                                \
        jl_small_cols_##S(JL_NT_MR2, 2, jb, k, bj, ldb, 1, at, ldat, ct, mpad, NULL, 0, NULL);      \
      else {                                                                                     \
        for (; v + JL_SM_NV <= nvec; v += JL_SM_NV)                                              \
          jl_small_cols_##S(JL_SM_MR, JL_SM_NV, jb, k, bj, ldb, 1, at + v * W, ldat,             \
                            ct + v * W, mpad, NULL, 0, NULL);                                    \
        for (; v < nvec; v++)                                                                    \
          jl_small_cols_##S(JL_SM_MR1, 1, jb, k, bj, ldb, 1, at + v * W, ldat, ct + v * W,       \
                            mpad, NULL, 0, NULL);                                                \
      }                                                                                          \
      for (int64_t i = 0; i < m; i++)                                                            \
        for (int64_t jj = 0; jj < jb; jj++) c[i * ldc + j0 + jj] = ct[jj * mpad + i];            \
    }                                                                                            \
  }                                                                                              \
  /* B transposed (stored n x k), as the transposed product C^T = B^T A^T: B's rows are then  \
   * the rows of the left operand, read in place (the tiles broadcast its elements), and A^T   \
   * (k x m, m rounded up to whole vectors) the right one, packed unless A is stored so; blocks \
   * of JL_NT_JB rows of C^T computed on the stack, then written into C transposed. Where m is \
   * short (a batch through a layer: 32 x 512 x 784, the input's gradient of a dense layer),  \
   * this reads B once, with no transposed copy of it (the small kernel's packing of a        \
   * transposed B, or OpenBLAS's). pack: JL_NT_PACK_ELEMS(m, k) elements, or NULL (stack or   \
   * heap); false (nothing written) where no buffer could be had. */                           \
  JL_INLINE bool jl_small_gemm_nt_##S(bool ta, int64_t m, int64_t n, int64_t k, const T *a,     \
                                      int64_t lda, const T *b, int64_t ldb, T *c, int64_t ldc,   \
                                      T *pack, int64_t npack) {                                  \
    const int64_t mpad = (m + W - 1) / W * W;                                                    \
    const T *at = a; /* A^T, k x mpad */                                                         \
    int64_t ldat = lda;                                                                          \
    T *own = NULL;                                                                               \
    if (!ta || m % W) {                                                                          \
      if (npack < k * mpad) {                                                                    \
        if (JL_GEMM_NO_ALLOC || !(pack = own = (T *)jl_alloc((size_t)(k * mpad) * sizeof(T))))  \
          return false;                                                                          \
      }                                                                                          \
      for (int64_t p = 0; p < k; p++)                                                            \
        for (int64_t i = 0; i < mpad; i++)                                                       \
          pack[p * mpad + i] = i >= m ? (T)0 : ta ? a[p * lda + i] : a[i * lda + p];             \
      at = pack;                                                                                 \
      ldat = mpad;                                                                               \
    }                                                                                            \
    /* blocks of JL_NT_JB rows of C^T (columns of C): on threads, as jl_threads.h decides per \
     * site, each thread its own blocks (the same tiles as on the caller alone) */              \
    jl_par_region r_ = {1, 0, 0, 0, 0};                                                          \
    const int64_t nblk = (n + JL_NT_JB - 1) / JL_NT_JB;                                          \
    jl_par_state *st_ = nblk < 2 ? NULL                                                          \
                        : jl_par_product_site(JL_SITE_SMALL_NT, ta, m, n, k, JL_PAR_MIN_SMALL);  \
    if (st_) jl_par_begin(st_, &r_, (double)m * (double)n * (double)k);                         \
    if (r_.nt <= 1) {                                                                            \
      jl_small_nt_blocks_##S(m, n, k, 0, nblk, at, ldat, b, ldb, c, ldc);                         \
      if (st_) jl_par_end(st_, &r_);                                                             \
    } else {                                                                                     \
      const int64_t want = (int64_t)r_.nt * JL_PAR_BANDS, nb = nblk < want ? nblk : want;        \
      _Pragma("omp parallel for num_threads(r_.nt) schedule(dynamic, 1)")                        \
      for (int64_t q = 0; q < nb; q++)                                                           \
        jl_small_nt_blocks_##S(m, n, k, nblk * q / nb, nblk * (q + 1) / nb, at, ldat, b, ldb, c,  \
                               ldc);                                                             \
      jl_par_end(st_, &r_);                                                                      \
    }                                                                                            \
    free(own);                                                                                   \
    return true;                                                                                 \
  }
JL_SMALL_GEMM(float, f32, JL_VEC_W_f32)
JL_SMALL_GEMM(double, f64, JL_VEC_W_f64)

/* Large products, packed and blocked as in BLIS: B in blocks of KC rows x NC columns, packed as
 * strips of NR = NV vectors (zero padded), A read in place in panels of MR rows (transposed A:
 * packed, MC rows at a time; the last rows: packed with zeros); a tile of MR x NV vectors keeps
 * its accumulators in registers while it runs over KC steps of an A panel (in L1) and a B strip
 * (streamed from L2). From 2^22 multiply-adds each OpenMP thread takes a slab of C. False
 * (nothing written) when its buffer cannot be had. Measured on the 2-core Zen 4 EPYC, one core,
 * f32 (GFLOP/s, the transformer block's products; this kernel / OpenBLAS 0.3's SkylakeX
 * kernels): 1024x1024x256 107 / 99, 1024x256x1024 105 / 95, 1024x768x256 106 / 100, transposed
 * B 105 / 98, transposed A 99 / 94; the tile alone on L1-resident data 116 (the FMA units'
 * peak); the 4 x 4-vector tile it replaced (A and B both packed, KC 128, scalar packing): 65-75.
 * An AVX2 build (6 x 2 tiles) against OpenBLAS's Haswell kernels on the same core: within 5%
 * either way. Which products take it is measured per machine (jl_gemm_class, compile.py). */
/* JL_GEMM_NO_ALLOC (jaxlite.export's C defines it): products given scratch never allocate. */
#ifndef JL_GEMM_NO_ALLOC
#define JL_GEMM_NO_ALLOC 0
#endif
/* Tiles: MR rows x NV vectors. 32 vector registers (AVX-512): 6 x 4, 24 accumulators (8 x 3 and
 * 12 x 2 measured 5-15% slower on these shapes, NR = 48 not dividing them); 16 (AVX2): 6 x 2;
 * otherwise (SSE, NEON with 64-byte vectors split by gcc) 4 x 1, not measured. */
#if defined(__AVX512F__)
#define JL_PK_MR 6
#define JL_PK_NV 4
#elif defined(__AVX__)
#define JL_PK_MR 6
#define JL_PK_NV 2
#else
#define JL_PK_MR 4
#define JL_PK_NV 1
#endif
/* Blocking, in elements: KC steps per pass over C, NC columns of B packed at a time (KC x NC:
 * 1 MiB of f32, L2's size here: B strips stream from it), MC rows of a transposed A packed at a
 * time (16-row passes over it: the copy reads 16 rows at a time). Measured (one core, f32, the
 * shapes above): KC 128 or 384-512 and NC 512 within 1-3% of these; MC 120 3% slower on
 * transposed A. */
#define JL_PK_KC 256
#define JL_PK_NC 1024
#define JL_PK_MC 384
/* The packing buffers of one serial packed product, in elements: B's KC x NC block (at most \
 * KC x n rounded up to whole strips) then A's MC x KC block (at most m rounded up to MR). */
#define JL_PK_ELEMS(W, m, n, k)                                                                  \
  (((k) < JL_PK_KC ? (k) : JL_PK_KC) *                                                           \
   (((n) < JL_PK_NC ? ((n) + JL_PK_NV * (W) - 1) / (JL_PK_NV * (W)) * (JL_PK_NV * (W))           \
                    : JL_PK_NC) +                                                                \
    ((m) < JL_PK_MC ? ((m) + JL_PK_MR - 1) / JL_PK_MR * JL_PK_MR : JL_PK_MC)))
#define JL_PACKED_GEMM(T, S, W)                                                                  \
  /* C's MR x NV-vector tile at c (+)= kc steps of A(r, p) = a[r * sar + p * sap] times the    \
   * packed B strip bs (kc x NV vectors); C read first when `load`; with cin (the last pass   \
   * over k of an update), C = cin + alpha (that sum), rounded as the unfused code */          \
  __attribute__((always_inline)) JL_INLINE void jl_pk_tile_##S(                                \
      int64_t kc, const T *a, int64_t sar, int64_t sap, const T *bs, T *c, int64_t ldc,        \
      bool load, const T *cin, int64_t ldcin, const T *alpha) {                               \
    jl_v##S acc[JL_PK_MR][JL_PK_NV];                                                             \
    for (int r = 0; r < JL_PK_MR; r++)                                                           \
      for (int v = 0; v < JL_PK_NV; v++) acc[r][v] = (jl_v##S){0};                               \
    if (load) /* C's lines on their way while the tile runs */                                   \
      for (int r = 0; r < JL_PK_MR; r++)                                                         \
        for (int64_t j = 0; j < JL_PK_NV * W; j += 64 / (int64_t)sizeof(T))                      \
          __builtin_prefetch(c + r * ldc + j, 1);                                                \
    _Pragma("GCC unroll 2") for (int64_t p = 0; p < kc; p++) {                                   \
      jl_v##S bv[JL_PK_NV];                                                                      \
      for (int v = 0; v < JL_PK_NV; v++)                                                         \
        memcpy(&bv[v], bs + (p * JL_PK_NV + v) * W, sizeof(jl_v##S));                            \
      for (int r = 0; r < JL_PK_MR; r++) {                                                       \
        const T ar = a[r * sar + p * sap];                                                       \
        for (int v = 0; v < JL_PK_NV; v++) acc[r][v] += ar * bv[v];                              \
      }                                                                                          \
    }                                                                                            \
    for (int r = 0; r < JL_PK_MR; r++)                                                           \
      for (int v = 0; v < JL_PK_NV; v++) {                                                       \
        jl_v##S t = acc[r][v];                                                                   \
        if (load) {                                                                              \
          jl_v##S o;                                                                             \
          memcpy(&o, c + r * ldc + v * W, sizeof o);                                             \
          t += o;                                                                                \
        }                                                                                        \
        if (cin) { /* (alpha read here: no register in the loop) */                             \
          jl_v##S o;                                                                             \
          t = *alpha * t;                                                                        \
          JL_NO_CONTRACT(t);                                                                     \
          memcpy(&o, cin + r * ldcin + v * W, sizeof o);                                         \
          t = o + t;                                                                             \
        }                                                                                        \
        memcpy(c + r * ldc + v * W, &t, sizeof t);                                               \
      }                                                                                          \
  }                                                                                              \
  /* bp: JL_PK_ELEMS(W, m, n, k) elements, 64-byte aligned (or NULL: allocated here); cin:   \
   * C = cin + alpha (A B) instead (cin rows ldcin apart), each tile updated in its last       \
   * store: no pass over C after the product */                                                \
  JL_INLINE bool jl_packed_serial_##S(bool ta, bool tb, int64_t m, int64_t n, int64_t k,        \
                                      const T *a, int64_t lda, const T *b, int64_t ldb, T *c,    \
                                      int64_t ldc, T *bp, const T *cin, int64_t ldcin,           \
                                      const T *alpha) {                                          \
    enum { MR = JL_PK_MR, NR = JL_PK_NV * W };                                                   \
    const int64_t kc_max = k < JL_PK_KC ? k : JL_PK_KC;                                          \
    const int64_t nc_max = n < JL_PK_NC ? (n + NR - 1) / NR * NR : JL_PK_NC;                     \
    T *own = NULL;                                                                               \
    if (!bp) {                                                                                   \
      bp = own = (T *)jl_alloc((size_t)JL_PK_ELEMS(W, m, n, k) * sizeof(T));                     \
      if (!bp) return false;                                                                     \
    }                                                                                            \
    T *const ap = bp + kc_max * nc_max; /* A's packed panels: kc x MR each */                    \
    for (int64_t jc = 0; jc < n; jc += JL_PK_NC) {                                               \
      const int64_t nc = n - jc < JL_PK_NC ? n - jc : JL_PK_NC, strips = (nc + NR - 1) / NR;     \
      for (int64_t pc = 0; pc < k; pc += JL_PK_KC) {                                             \
        const int64_t kc = k - pc < JL_PK_KC ? k - pc : JL_PK_KC;                                \
        const bool load = pc > 0;                                                                \
        const T *const upd = pc + kc >= k ? cin : NULL; /* the last pass over k updates */       \
        /* strip s: kc x NR at bp + s * kc * NR. Untransposed B: row by row, one stream read in \
         * order (256x1024x1024 on one core: 5.35-5.6 ms, 5.55-5.9 strip by strip) */           \
        if (!tb)                                                                                 \
          for (int64_t p = 0; p < kc; p++)                                                       \
            for (int64_t s = 0; s < strips; s++) {                                               \
              T *dst = bp + (s * kc + p) * NR;                                                   \
              const int64_t j0 = jc + s * NR, w = n - j0 < NR ? n - j0 : NR;                     \
              memcpy(dst, b + (pc + p) * ldb + j0, (size_t)w * sizeof(T));                       \
              for (int64_t q = w; q < NR; q++) dst[q] = 0;                                       \
            }                                                                                    \
        else /* B(p, j) = b[j * ldb + p]: 16 steps of each column at a time */                   \
          for (int64_t s = 0; s < strips; s++) {                                                 \
            T *dst = bp + s * kc * NR;                                                           \
            const int64_t j0 = jc + s * NR, w = n - j0 < NR ? n - j0 : NR;                       \
            for (int64_t p0 = 0; p0 < kc; p0 += 16) {                                            \
              const int64_t pn = kc - p0 < 16 ? kc - p0 : 16;                                    \
              for (int64_t q = 0; q < NR; q++) {                                                 \
                const T *src = b + (j0 + q) * ldb + pc + p0;                                     \
                for (int64_t p = 0; p < pn; p++) dst[(p0 + p) * NR + q] = q < w ? src[p] : (T)0; \
              }                                                                                  \
            }                                                                                    \
          }                                                                                      \
        for (int64_t i = 0; i < m; i += MR) {                                                    \
          const int64_t rows = m - i < MR ? m - i : MR;                                          \
          const T *at = ap;                                                                      \
          bool in_place = false;                                                                 \
          if (ta) { /* A(i, p) = a[p * lda + i]: MC rows packed at a time, 16 steps a pass */    \
            if (i % JL_PK_MC == 0) {                                                             \
              const int64_t mc = m - i < JL_PK_MC ? m - i : JL_PK_MC;                            \
              for (int64_t p0 = 0; p0 < kc; p0 += 16) {                                          \
                const int64_t pn = kc - p0 < 16 ? kc - p0 : 16;                                  \
                for (int64_t g = 0; g * MR < mc; g++)                                            \
                  for (int64_t p = p0; p < p0 + pn; p++) {                                       \
                    const T *src = a + (pc + p) * lda + i + g * MR;                              \
                    T *d = ap + (g * kc + p) * MR;                                               \
                    if (mc - g * MR >= MR)                                                       \
                      memcpy(d, src, MR * sizeof(T));                                            \
                    else                                                                         \
                      for (int r = 0; r < MR; r++) d[r] = g * MR + r < mc ? src[r] : (T)0;       \
                  }                                                                              \
              }                                                                                  \
            }                                                                                    \
            at = ap + (i % JL_PK_MC) / MR * kc * MR;                                             \
          } else if (rows == MR) { /* rows of A read in place */                                 \
            at = a + i * lda + pc;                                                               \
            in_place = true;                                                                     \
          } else { /* the last rows: packed, zero padded */                                      \
            for (int r = 0; r < MR; r++)                                                         \
              for (int64_t p = 0; p < kc; p++)                                                   \
                ap[p * MR + r] = r < rows ? a[(i + r) * lda + pc + p] : (T)0;                    \
          }                                                                                      \
          for (int64_t s = 0; s < strips; s++) {                                                 \
            const int64_t j = jc + s * NR, width = n - j < NR ? n - j : NR;                      \
            const T *bs = bp + s * kc * NR;                                                      \
            T *cij = c + i * ldc + j;                                                            \
            const T *uij = upd ? upd + i * ldcin + j : NULL;                                     \
            if (rows == MR && width == NR) {                                                     \
              if (in_place)                                                                      \
                jl_pk_tile_##S(kc, at, lda, 1, bs, cij, ldc, load, uij, ldcin, alpha);           \
              else                                                                               \
                jl_pk_tile_##S(kc, at, 1, MR, bs, cij, ldc, load, uij, ldcin, alpha);            \
              continue;                                                                          \
            }                                                                                    \
            T t[MR * NR]; /* an edge tile, computed whole and copied in part */                  \
            for (int r = 0; r < MR; r++)                                                         \
              for (int64_t q = 0; q < NR; q++)                                                   \
                t[r * NR + q] = load && r < rows && q < width ? cij[r * ldc + q] : (T)0;         \
            if (in_place)                                                                        \
              jl_pk_tile_##S(kc, at, lda, 1, bs, t, NR, load, NULL, 0, NULL);                    \
            else                                                                                 \
              jl_pk_tile_##S(kc, at, 1, MR, bs, t, NR, load, NULL, 0, NULL);                     \
            for (int64_t r = 0; r < rows; r++) {                                                 \
              if (uij)                                                                           \
                for (int64_t q = 0; q < width; q++) {                                            \
                  T u = *alpha * t[r * NR + q];                                                  \
                  JL_NO_CONTRACT_SCALAR(u);                                                      \
                  cij[r * ldc + q] = uij[r * ldcin + q] + u;                                     \
                }                                                                                \
              else                                                                               \
                memcpy(cij + r * ldc, t + r * NR, (size_t)width * sizeof(T));                    \
            }                                                                                    \
          }                                                                                      \
        }                                                                                        \
      }                                                                                          \
    }                                                                                            \
    free(own);                                                                                   \
    return true;                                                                                 \
  }                                                                                              \
  /* From JL_PAR_MIN_PACKED multiply-adds, one parallel region: each thread computes its own  \
   * slab of C with the serial kernel (its own packed copies: no barrier, no shared buffer): a  \
   * range of whole NR-column strips when C is wider than tall, else of MR-row panels. Thread 0 \
   * packs into `bp` (its slab needs no more than the whole product), the others into buffers \
   * they keep (jl_thread_buf; else the serial kernel allocates); with                        \
   * JL_GEMM_NO_ALLOC a product given `bp` runs on the calling thread instead (no allocation). */ \
  JL_INLINE bool jl_packed_gemm_##S(bool ta, bool tb, int64_t m, int64_t n, int64_t k,          \
                                    const T *a, int64_t lda, const T *b, int64_t ldb, T *c,      \
                                    int64_t ldc, T *bp, const T *cin, int64_t ldcin,             \
                                    const T *alpha) {                                            \
    jl_par_region r_ = {1, 0, 0, 0, 0};                                                          \
    jl_par_state *st_ = JL_GEMM_NO_ALLOC && bp ? NULL                                            \
                        : jl_par_product_site(JL_SITE_PACKED, ta * 4 + tb * 2 + !!cin, m, n, k,  \
                                              JL_PAR_MIN_PACKED);                                \
    if (st_) jl_par_begin(st_, &r_, (double)m * (double)n * (double)k);                         \
    if (r_.nt <= 1) { /* small, nested, no threads, or the caller alone is faster (timed too:  \
                       * the policy compares both ways) */                                      \
      const bool ok =                                                                            \
          jl_packed_serial_##S(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, bp, cin, ldcin, alpha);  \
      if (st_) jl_par_end(st_, &r_);                                                             \
      return ok;                                                                                 \
    }                                                                                            \
    const bool by_cols = n >= m;                                                                 \
    const int64_t unit = by_cols ? JL_PK_NV * W : JL_PK_MR;                                    \
    const size_t bytes = (size_t)JL_PK_ELEMS(W, m, n, k) * sizeof(T); /* (enough for a slab) */ \
    const int64_t units = ((by_cols ? n : m) + unit - 1) / unit;                                 \
    int failed = 0;                                                                              \
    _Pragma("omp parallel num_threads(r_.nt) reduction(|:failed)") {                            \
      const int64_t nt = JL_OMP_NUM_THREADS(), t = JL_OMP_THREAD_NUM();                          \
      const int64_t lo = units * t / nt * unit, hi0 = units * (t + 1) / nt * unit;              \
      const int64_t hi = by_cols ? (hi0 < n ? hi0 : n) : (hi0 < m ? hi0 : m);                   \
      T *buf = t || !bp ? (T *)jl_thread_buf(bytes) : bp;                                        \
      if (lo < hi) {                                                                             \
        if (by_cols) /* columns [lo, hi) */                                                      \
          failed |= !jl_packed_serial_##S(ta, tb, m, hi - lo, k, a, lda,                         \
                                          b + (tb ? lo * ldb : lo), ldb, c + lo, ldc,            \
                                          buf, cin ? cin + lo : NULL, ldcin, alpha);             \
        else /* rows [lo, hi) */                                                                 \
          failed |= !jl_packed_serial_##S(ta, tb, hi - lo, n, k, a + (ta ? lo : lo * lda), lda,  \
                                          b, ldb, c + lo * ldc, ldc, buf,                        \
                                          cin ? cin + lo * ldcin : NULL, ldcin, alpha);          \
      }                                                                                          \
    }                                                                                            \
    jl_par_end(st_, &r_);                                                                        \
    return !failed;                                                                              \
  }
JL_PACKED_GEMM(float, f32, JL_VEC_W_f32)
JL_PACKED_GEMM(double, f64, JL_VEC_W_f64)
#if defined(__clang__)
#pragma clang fp contract(off) /* as the command line's -ffp-contract=off */
#else
#pragma GCC pop_options
#endif

#define JL_SMALL_OK_f32 jl_small_ok_f32
#define JL_SMALL_OK_f64 jl_small_ok_f64
#else /* no vector extension: BLAS or the loops for every size */
#define JL_SMALL_OK_f32(tb, m, n, k) false
#define JL_SMALL_OK_f64(tb, m, n, k) false
#define jl_small_gemm_f32(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, pack) \
  jl_gemm_loops_f32(ta, tb, m, n, k, a, lda, b, ldb, c, ldc)
#define jl_small_gemm_f64(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, pack) \
  jl_gemm_loops_f64(ta, tb, m, n, k, a, lda, b, ldb, c, ldc)
#define jl_packed_gemm_f32(...) false
#define jl_packed_gemm_f64(...) false
#define jl_small_gemm_nt_f32(...) false
#define jl_small_gemm_nt_f64(...) false
#define jl_small_gemm_upd_f32(...) (void)0
#define jl_small_gemm_upd_f64(...) (void)0
#define JL_NT_MAXM 0
#define JL_NT_PACK_MAX 0
#endif

/* Whether large products go to the packed kernel: without BLAS, always; with it, when BLAS's
 * kernels are narrower than ours and C is big enough to give each of two threads a slab (at
 * least 128 rows or columns: 64 x 64 x 32000, the weight gradient of a scan, took 35% longer
 * on one core than in OpenBLAS on two). */
#if defined(JL_HAVE_BLAS) && defined(__AVX512F__) && defined(JL_RT_VECTOR)
#define JL_PACKED_WANTED ((m >= 128 || n >= 128) && jl_blas_narrower())
#elif defined(JL_HAVE_BLAS)
#define JL_PACKED_WANTED false
#else
#define JL_PACKED_WANTED true
#endif

#ifdef JL_HAVE_BLAS
#define JL_GEMM_BLAS(T, S, CBLAS_GEMM)                                                           \
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX || lda > INT32_MAX || ldb > INT32_MAX ||   \
      ldc > INT32_MAX)                                                                           \
    jl_gemm_loops_##S(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);                                  \
  else                                                                                           \
    CBLAS_GEMM(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,    \
               (blasint)m, (blasint)n, (blasint)k, 1, a, (blasint)lda, b, (blasint)ldb, 0, c,    \
               (blasint)ldc);
#else
#define JL_GEMM_BLAS(T, S, CBLAS_GEMM) jl_gemm_loops_##S(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
#endif

/* The kernel choice, measured: jaxlite/backend/gemm_choice.py times the paths below on one
 * representative product of each shape class when the library is first loaded on a machine
 * (jl_rt_gemm_time), caches the winners on disk keyed by the CPU, and hands them to every
 * process (jl_rt_gemm_set_choice). A class with no choice (JL_PATH_DEFAULT: the library before
 * it is told, or a path that cannot take this product) keeps the fixed rules above. */
enum { JL_PATH_DEFAULT = 0, JL_PATH_SMALL = 1, JL_PATH_PACKED = 2, JL_PATH_BLAS = 3,
       JL_PATH_BLAS_SLABS = 4, JL_PATH_SMALL_NT = 5 };
/* JL_PATH_BLAS_SLABS: BLAS called once per slab of JL_SLAB_ROWS rows of A and C. OpenBLAS's
 * AVX-512 build computes products under about 2^19 multiply-adds without packing (its "small
 * matrix" kernels): attention's per-head 128x64x128 products took 0.73 ms for 32 heads whole
 * and 0.585 in 64-row slabs on the 2-core EPYC (92 -> 115 GFLOP/s). Whether slabs win is
 * measured like every path (jaxlite/backend/compile.py); with B transposed they lost there
 * (128x128x64, 90 -> 83 GFLOP/s), so a product with B transposed takes the fixed rules; so it
 * does with the small kernel (it packs a transposed B first; timed on untransposed products:
 * attention's 32 x 128x64x128 with B transposed took 910 us in it, 830 in OpenBLAS). */
#define JL_SLAB_ROWS 64
#define JL_UPD_SMALL_K 64 /* (JL_RT(gemm_upd_*) below) */
#define JL_NCLASS 8
/* 0 tiny (<= 16^3 multiply-adds), 1 outputs narrower than one vector, 2 small (<= 128^3),
 * 3 B at most 128 x 128 (any height), and beyond those: 5 at most 64 rows (a batch through a
 * dense layer), 6 a contraction of at most 64 (a dense layer's weight gradient), 4 large, 7 huge
 * (from 2^26 multiply-adds: where the packed kernel's lead over BLAS is largest; 128x256x512,
 * class 4's product, is too small to tell: on the 2-core Zen 4 EPYC it took 319 us, OpenBLAS
 * 325, and 1024x256x256 1.2-1.28 ms against 1.32-1.40) */
JL_INLINE int jl_gemm_class(int64_t m, int64_t n, int64_t k, int64_t w) {
  const int64_t mnk = m * n * k;
  return mnk <= 4096                  ? 0
         : n < w                      ? 1
         : mnk <= 128 * 128 * 128     ? 2
         : k <= 128 && n <= 128       ? 3
         : m <= 64                    ? 5
         : k <= 64                    ? 6
         : mnk < ((int64_t)1 << 26)   ? 4
                                      : 7;
}
/* NB: written once, before any product runs (the loader calls jl_rt_gemm_set_choice first) */
static signed char jl_choice_f32_[JL_NCLASS], jl_choice_f64_[JL_NCLASS];
/* The same for products with B transposed, timed as such: JL_PATH_SMALL there means the small
 * kernel on the transposed product (jl_small_gemm_nt: B read in place), where it fits. */
static signed char jl_choice_tb_f32_[JL_NCLASS], jl_choice_tb_f64_[JL_NCLASS];
#if defined(JL_RT_VECTOR)
#define JL_SMALL_FITS(S, tb, m, n, k) \
  ((!(tb) && (n) % JL_VEC_W_##S == 0) || (k) * (((n) + JL_VEC_W_##S - 1) / JL_VEC_W_##S * JL_VEC_W_##S) <= JL_SMALL_PACK)
#define JL_HAVE_OWN 1
/* the scratch of jl_gemm_time: enough for any of our kernels (the packed kernel's, the small
 * kernel's packed B, the transposed-product kernel's packed A^T) */
#define JL_TIME_SCRATCH(S, m, n, k)                                                              \
  (JL_PK_ELEMS(JL_VEC_W_##S, m, n, k) +                                                          \
   (k) * (((n) + JL_VEC_W_##S - 1) / JL_VEC_W_##S * JL_VEC_W_##S) +                              \
   (k) * (((m) + JL_VEC_W_##S - 1) / JL_VEC_W_##S * JL_VEC_W_##S))
#define JL_NT_FITS(S, m, k) \
  ((m) <= JL_NT_MAXM && (k) * (((m) + JL_VEC_W_##S - 1) / JL_VEC_W_##S * JL_VEC_W_##S) <= JL_NT_PACK_MAX)
#else
#define JL_VEC_W_f32 1
#define JL_VEC_W_f64 1
#define JL_SMALL_FITS(S, tb, m, n, k) false
#define JL_HAVE_OWN 0
#define JL_TIME_SCRATCH(S, m, n, k) 0
#define JL_NT_FITS(S, m, k) false
#endif

#define JL_GEMM(T, S, CBLAS_GEMM)                                                                \
  JL_INLINE void jl_gemm_blas_##S(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T *a, \
                                  int64_t lda, const T *b, int64_t ldb, T *c, int64_t ldc) {     \
    JL_GEMM_BLAS(T, S, CBLAS_GEMM)                                                               \
  }                                                                                              \
  /* BLAS on threads: from 2^22 multiply-adds, C in JL_BLAS_SLABS per thread of BLAS's       \
   * (jl_blas_threads_) slabs of rows, or of columns when C is wider than tall (64-row calls    \
   * within them with `slabs`), each a call, claimed by the region's threads as they come: a   \
   * late worker leaves its slabs to the caller; on the caller alone when that is faster      \
   * (jl_threads.h) or the product is nested. NB: the same slabs on any thread count: OpenBLAS \
   * a slab differently from the whole product (its small-matrix kernels; measured: f64        \
   * 131x300x107 in 3 slabs), never one slab differently from itself. False: one call. */     \
  JL_INLINE bool jl_gemm_blas_par_##S(bool slabs, bool ta, bool tb, int64_t m, int64_t n,       \
                                      int64_t k, const T *a, int64_t lda, const T *b,            \
                                      int64_t ldb, T *c, int64_t ldc) {                          \
    if (m * n * k < JL_PAR_MIN_BLAS || jl_blas_threads_ <= 1) return false;                      \
    /* (nested, or timed by jl_rt_gemm_time: the same slabs on the caller alone) */             \
    jl_par_state *st_ = jl_par_product_site(JL_SITE_BLAS, ta * 4 + tb * 2 + slabs, m, n, k,      \
                                            JL_PAR_MIN_BLAS);                                    \
    const bool by_cols = !slabs && n >= m;                                                       \
    const int64_t unit = slabs ? JL_SLAB_ROWS : by_cols ? 16 : 8;                                \
    const int64_t units = ((by_cols ? n : m) + unit - 1) / unit;                                 \
    const int64_t want = (int64_t)jl_blas_threads_ * JL_BLAS_SLABS;                              \
    const int64_t ns = units < want ? units : want;                                              \
    jl_par_region r_ = {1, 0, 0, 0, 0};                                                          \
    if (st_) jl_par_begin(st_, &r_, (double)m * (double)n * (double)k);                         \
    if (r_.nt > jl_blas_threads_) r_.nt = jl_blas_threads_;                                      \
    _Pragma("omp parallel num_threads(r_.nt)") {                                                 \
      _Pragma("omp for schedule(dynamic, 1) nowait")                                             \
      for (int64_t q = 0; q < ns; q++) {                                                         \
        const int64_t lo = units * q / ns * unit, hi0 = units * (q + 1) / ns * unit;            \
        const int64_t hi = by_cols ? (hi0 < n ? hi0 : n) : (hi0 < m ? hi0 : m);                 \
        for (int64_t i = lo; i < hi; i += slabs ? JL_SLAB_ROWS : hi - lo) {                      \
          const int64_t e = slabs && hi - i > JL_SLAB_ROWS ? JL_SLAB_ROWS : hi - i;              \
          if (by_cols)                                                                           \
            jl_gemm_blas_##S(ta, tb, m, e, k, a, lda, b + (tb ? i * ldb : i), ldb, c + i, ldc);  \
          else                                                                                   \
            jl_gemm_blas_##S(ta, tb, e, n, k, ta ? a + i : a + i * lda, lda, b, ldb,             \
                             c + i * ldc, ldc);                                                  \
        }                                                                                        \
      }                                                                                          \
    }                                                                                            \
    if (st_) jl_par_end(st_, &r_);                                                               \
    return true;                                                                                 \
  }                                                                                              \
  /* The path a product takes: the measured choice of its class where that path can take it, \
   * else the fixed rules (which need no BLAS, no buffer). */                                  \
  JL_INLINE int jl_gemm_path_##S(bool tb, int64_t m, int64_t n, int64_t k) {                     \
    const int cls = jl_gemm_class(m, n, k, JL_VEC_W_##S), choice = jl_choice_##S##_[cls];        \
    if (tb) { /* B transposed: its own measured choice, else as below */                        \
      const int tchoice = jl_choice_tb_##S##_[cls];                                              \
      if (tchoice == JL_PATH_SMALL && JL_NT_FITS(S, m, k)) return JL_PATH_SMALL_NT;              \
      if (tchoice == JL_PATH_PACKED && JL_HAVE_OWN) return JL_PATH_PACKED;                       \
      if (tchoice == JL_PATH_BLAS) return JL_PATH_BLAS;                                          \
    }                                                                                            \
    if (choice == JL_PATH_SMALL && !tb && JL_SMALL_FITS(S, tb, m, n, k)) return JL_PATH_SMALL;   \
    if (choice == JL_PATH_PACKED && JL_HAVE_OWN) return JL_PATH_PACKED;                          \
    if (choice == JL_PATH_BLAS) return JL_PATH_BLAS;                                             \
    if (choice == JL_PATH_BLAS_SLABS && !tb) return JL_PATH_BLAS_SLABS;                         \
    if (JL_SMALL_OK_##S(tb, m, n, k)) return JL_PATH_SMALL;                                      \
    if (JL_PACKED_WANTED) return JL_PATH_PACKED;                                                 \
    return JL_PATH_BLAS;                                                                         \
  }                                                                                              \
  /* scratch: `nscratch` elements, 64-byte aligned, used where they suffice (else NULL) */    \
  JL_INLINE void jl_gemm_on_##S(int path, bool ta, bool tb, int64_t m, int64_t n, int64_t k,     \
                                const T *a, int64_t lda, const T *b, int64_t ldb, T *c,          \
                                int64_t ldc, T *scratch, int64_t nscratch) {                     \
    if (path == JL_PATH_SMALL) {                                                                 \
      const int64_t w = JL_VEC_W_##S, need = k * ((n + w - 1) / w * w);                          \
      jl_small_gemm_##S(ta, tb, m, n, k, a, lda, b, ldb, c, ldc,                                 \
                        nscratch >= need ? scratch : NULL);                                      \
      return;                                                                                    \
    }                                                                                            \
    if (path == JL_PATH_SMALL_NT &&                                                              \
        jl_small_gemm_nt_##S(ta, m, n, k, a, lda, b, ldb, c, ldc, scratch, nscratch))           \
      return;                                                                                    \
    if (path == JL_PATH_PACKED &&                                                                \
        jl_packed_gemm_##S(ta, tb, m, n, k, a, lda, b, ldb, c, ldc,                              \
                           nscratch >= JL_PK_ELEMS(JL_VEC_W_##S, m, n, k) ? scratch : NULL,      \
                           NULL, 0, NULL))                                                       \
      return;                                                                                    \
    if (jl_gemm_blas_par_##S(path == JL_PATH_BLAS_SLABS && m > JL_SLAB_ROWS, ta, tb, m, n, k, a, \
                             lda, b, ldb, c, ldc))                                               \
      return;                                                                                    \
    if (path == JL_PATH_BLAS_SLABS && m > JL_SLAB_ROWS) {                                        \
      for (int64_t i = 0; i < m; i += JL_SLAB_ROWS)                                              \
        jl_gemm_blas_##S(ta, tb, m - i < JL_SLAB_ROWS ? m - i : JL_SLAB_ROWS, n, k,              \
                         ta ? a + i : a + i * lda, lda, b, ldb, c + i * ldc, ldc);               \
      return;                                                                                    \
    }                                                                                            \
    jl_gemm_blas_##S(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);                                   \
  }                                                                                              \
  void JL_RT(gemm_##S)(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T *a,            \
                       int64_t lda, const T *b, int64_t ldb, T *c, int64_t ldc) {                \
    if (m <= 0 || n <= 0) return;                                                                \
    jl_gemm_on_##S(jl_gemm_path_##S(tb, m, n, k), ta, tb, m, n, k, a, lda, b, ldb, c, ldc, NULL, \
                   0);                                                                           \
  }                                                                                              \
  void JL_RT(gemm_ws_##S)(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T *a,         \
                          int64_t lda, const T *b, int64_t ldb, T *c, int64_t ldc, T *scratch,   \
                          int64_t nscratch) {                                                    \
    if (m <= 0 || n <= 0) return;                                                                \
    jl_gemm_on_##S(jl_gemm_path_##S(tb, m, n, k), ta, tb, m, n, k, a, lda, b, ldb, c, ldc,       \
                   scratch, nscratch);                                                           \
  }                                                                                              \
  /* C = cin + alpha (A B): a product and the update that reads it (an SGD step's `w - lr *    \
   * grad`), with the two roundings of that code; cin (rows ldcin apart) does not overlap C.   \
   * The small and packed kernels update each tile as they store it (the packed one in its     \
   * last pass over k); BLAS stores A B, then a pass updates it. A contraction of at most      \
   * JL_UPD_SMALL_K with B untransposed (a batch's weight gradient) takes the small kernel,    \
   * whatever the product's own path: the pass over C that the others need cost more than      \
   * their lead on the product (one Zen 4 core, f32, us, the update included; small / the      \
   * measured path and a pass, AVX-512: 512x784x32 316 / 496, 784x512x32 311 / 480,            \
   * 512x512x32 213 / 319; AVX2 build: 488 / 540, 368 / 568, 283 / 285; at k = 128,            \
   * 784x512x128 on AVX2: 1280 / 1111, so not there). Where BLAS computes the product, the     \
   * packed kernel computes the update: within a few % of BLAS on the product and no pass      \
   * (the MLP's 784x512x128 weight gradient, x^T dy: packed 1250 / BLAS 1292 us with the pass  \
   * on AVX-512, 1102 / 1119 on AVX2; the pass about 10% of either). The product is then that  \
   * kernel's, which may differ from the unfused product's path in the last bits. */           \
  void JL_RT(gemm_upd_##S)(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T *a,        \
                           int64_t lda, const T *b, int64_t ldb, T *c, int64_t ldc, T *scratch,  \
                           int64_t nscratch, T alpha, const T *cin, int64_t ldcin) {             \
    if (m <= 0 || n <= 0) return;                                                                \
    const int path = jl_gemm_path_##S(tb, m, n, k);                                              \
    /* (and outputs narrower than a vector: the packed kernel pads them to whole strips: the   \
     * MLP's 512x10x128 took 87 us there, 27 in the small kernel, on one Zen 4 core) */         \
    if (JL_HAVE_OWN &&                                                                           \
        (path == JL_PATH_SMALL || ((k <= JL_UPD_SMALL_K || n < JL_VEC_W_##S) && !tb &&           \
                                   JL_SMALL_FITS(S, tb, m, n, k)))) {                            \
      const int64_t w = JL_VEC_W_##S, need = k * ((n + w - 1) / w * w);                          \
      jl_small_gemm_upd_##S(ta, tb, m, n, k, a, lda, b, ldb, c, ldc,                             \
                            nscratch >= need ? scratch : NULL, cin, ldcin, &alpha);              \
      return;                                                                                    \
    }                                                                                            \
    if (JL_HAVE_OWN && (path == JL_PATH_PACKED || path == JL_PATH_BLAS ||                        \
                        path == JL_PATH_BLAS_SLABS) &&                                           \
        jl_packed_gemm_##S(ta, tb, m, n, k, a, lda, b, ldb, c, ldc,                              \
                           nscratch >= JL_PK_ELEMS(JL_VEC_W_##S, m, n, k) ? scratch : NULL,      \
                           cin, ldcin, &alpha))                                                  \
      return;                                                                                    \
    jl_gemm_on_##S(path, ta, tb, m, n, k, a, lda, b, ldb, c, ldc, scratch, nscratch);            \
    for (int64_t i = 0; i < m; i++) {                                                            \
      T *ci = c + i * ldc;                                                                       \
      const T *ii = cin + i * ldcin;                                                             \
      for (int64_t j = 0; j < n; j++) ci[j] = ii[j] + alpha * ci[j];                             \
    }                                                                                            \
  }                                                                                              \
  /* Median seconds of `reps` products m x k @ k x n (row-major, no transposes) on `path`,    \
   * after one untimed call (its time alone when it exceeds `limit`: a path out of the race); \
   * -1 when the path cannot take it (or no buffer). With a scratch buffer, as the kernels call \
   * it (jl_gemm_ws): allocated at each call, the packed kernel's 400 KB at 128x256x512 took   \
   * 450-540 us instead of 310-340 (glibc maps it afresh, and the kernel faults its pages in). */ \
  static double jl_gemm_time_##S(int path, bool tb, int64_t m, int64_t n, int64_t k, int reps,   \
                                 double limit) {                                                 \
    if (path == JL_PATH_SMALL && tb) { /* the transposed product's kernel, where it fits */      \
      if (!JL_NT_FITS(S, m, k)) return -1;                                                       \
      path = JL_PATH_SMALL_NT;                                                                   \
    }                                                                                            \
    if (path == JL_PATH_BLAS_SLABS && tb) return -1; /* (not taken with B transposed) */         \
    if (path == JL_PATH_SMALL && !JL_SMALL_FITS(S, false, m, n, k)) return -1;                   \
    if ((path == JL_PATH_SMALL || path == JL_PATH_PACKED || path == JL_PATH_SMALL_NT) &&         \
        !JL_HAVE_OWN)                                                                            \
      return -1;                                                                                 \
    if (reps < 1 || reps > 64) reps = 5;                                                         \
    T *a = (T *)malloc((size_t)(m * k + k * n + m * n) * sizeof(T));                             \
    if (!a) return -1;                                                                           \
    T *b = a + m * k, *c = b + k * n;                                                            \
    for (int64_t i = 0; i < m * k + k * n; i++) a[i] = (T)((i * 7919) % 17) * (T)0.125;          \
    const int64_t nscr = JL_TIME_SCRATCH(S, m, n, k);                                            \
    T *scr = nscr ? (T *)jl_alloc((size_t)nscr * sizeof(T)) : NULL;                              \
    double t[64];                                                                                \
    for (int r = -1; r < reps; r++) {                                                            \
      struct timespec t0, t1;                                                                    \
      clock_gettime(CLOCK_MONOTONIC, &t0);                                                       \
      jl_gemm_on_##S(path, false, tb, m, n, k, a, k, b, tb ? k : n, c, n, scr, scr ? nscr : 0);  \
      clock_gettime(CLOCK_MONOTONIC, &t1);                                                       \
      const double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec); \
      if (r < 0 && dt > limit) {                                                                 \
        free(a);                                                                                 \
        free(scr);                                                                               \
        return dt;                                                                               \
      }                                                                                          \
      if (r >= 0) t[r] = dt;                                                                     \
    }                                                                                            \
    free(a);                                                                                     \
    free(scr);                                                                                   \
    for (int i = 1; i < reps; i++) /* insertion sort: at most 64 */                             \
      for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {                                           \
        const double x = t[j];                                                                   \
        t[j] = t[j - 1];                                                                         \
        t[j - 1] = x;                                                                            \
      }                                                                                          \
    return t[reps / 2];                                                                          \
  }
JL_GEMM(float, f32, scipy_cblas_sgemm)
JL_GEMM(double, f64, scipy_cblas_dgemm)

/* For jaxlite/backend/gemm_choice.py (cffi), not for kernels. dtype: 0 float32, 1 float64. */
int JL_RT(gemm_nclass)(void) { return JL_NCLASS; }
int JL_RT(gemm_vec_width)(int dtype) { return dtype ? JL_VEC_W_f64 : JL_VEC_W_f32; }
int JL_RT(gemm_class)(int dtype, int64_t m, int64_t n, int64_t k) {
  return jl_gemm_class(m, n, k, dtype ? JL_VEC_W_f64 : JL_VEC_W_f32);
}
double JL_RT(gemm_time)(int dtype, int path, int64_t m, int64_t n, int64_t k, int reps,
                        double limit) {
#ifndef JL_HAVE_BLAS
  if (path == JL_PATH_BLAS || path == JL_PATH_BLAS_SLABS) return -1; /* the C loops: never a choice */
#endif
  JL_PAR_STORE(&jl_par_timing_, 1);
  const double t = dtype ? jl_gemm_time_f64(path, false, m, n, k, reps, limit)
                         : jl_gemm_time_f32(path, false, m, n, k, reps, limit);
  JL_PAR_STORE(&jl_par_timing_, 0);
  return t;
}
/* The same with B transposed (stored n x k): JL_PATH_SMALL is then the transposed product's
 * small kernel (jl_small_gemm_nt). */
double JL_RT(gemm_time_tb)(int dtype, int path, int64_t m, int64_t n, int64_t k, int reps,
                           double limit) {
#ifndef JL_HAVE_BLAS
  if (path == JL_PATH_BLAS || path == JL_PATH_BLAS_SLABS) return -1;
#endif
  JL_PAR_STORE(&jl_par_timing_, 1);
  const double t = dtype ? jl_gemm_time_f64(path, true, m, n, k, reps, limit)
                         : jl_gemm_time_f32(path, true, m, n, k, reps, limit);
  JL_PAR_STORE(&jl_par_timing_, 0);
  return t;
}
void JL_RT(gemm_set_choice)(int dtype, const signed char *choice) {
  for (int i = 0; i < JL_NCLASS; i++) (dtype ? jl_choice_f64_ : jl_choice_f32_)[i] = choice[i];
}
void JL_RT(gemm_set_choice_tb)(int dtype, const signed char *choice) {
  for (int i = 0; i < JL_NCLASS; i++)
    (dtype ? jl_choice_tb_f64_ : jl_choice_tb_f32_)[i] = choice[i];
}
int JL_RT(gemm_path)(int dtype, bool tb, int64_t m, int64_t n, int64_t k) {
  return dtype ? jl_gemm_path_f64(tb, m, n, k) : jl_gemm_path_f32(tb, m, n, k);
}

/* ---- convolutions as products read in place (implicit GEMM) ------------------------------
 * C(row, j) (+)= sum over segments (g0, g1) and steps p of A(row, g0, g1, p) B(g0, g1, p, j):
 * a convolution's product without its im2col matrix. Each row of a tile has its own pointer
 * into A (an output pixel's window, or a window position of the kernel's gradient), so the
 * rows may be any pixels of any images; B is read in place along its contiguous columns.
 *   rows (r0, r1, r2) < (e0, e1, e2): A(row, g, p) = a[r0 as0 + r1 as1 + r2 as2 + g0 ga0 +
 *   g1 ga1 + p sa], C(row, j) = c[r0 cs0 + r1 cs1 + r2 cs2 + j]; B(g, p, j) = b[g0 gb0 + g1 gb1
 *   + p sb + j], j < n, readable (not used) up to n rounded up to whole vectors.
 * d: {e0, e1, e2, as0, as1, as2, cs0, cs1, cs2, g0, g1, ga0, ga1, gb0, gb1, len, sa, sb, n,
 * accumulate, H, W, lo0, lo1, s0, s1, d0, d1, a0}: A's offsets start at a0 (may be negative);
 * with H > 0 a row (r0, r1, r2) reads zeros for the segments whose (r1 s0 - lo0 + g0 d0,
 * r2 s1 - lo1 + g1 d1) falls outside H x W (a convolution's padding, read in place; then
 * len sa <= JL_CG_ZEROS). backend/rules_conv.py decides which convolutions take it. Tiles: MR rows x NV
 * vectors of accumulators (6 x 4, 8 x 3, 12 x 2, 12 x 1: 24 or 12 registers, measured at this
 * machine's peak on L1-resident data, where the 4 x 4 tile of the products above ran 20%
 * slower), the contraction in blocks of segments whose B stays in L2. */
#define JL_CG_ND 29
#ifndef JL_CG_BBLK
#define JL_CG_BBLK 196608
#endif
#if defined(JL_RT_VECTOR)
/* NB: kernels are compiled with -ffp-contract=off (elementwise results as NumPy's); a product's
 * rounding is BLAS's business (it fuses): fused multiply-adds here, one instruction instead of
 * two (LeNet conv2 forward 85 -> 104 GFLOP/s on one core, Zen 4). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")
#endif
#define JL_CG_ZEROS 4096 /* the zeros a row reads where its window is in the padding */
#define JL_CONV_TILE(T, S, W, MR, NV)                                                            \
  static const T jl_cg_zeros_##S##_##NV[JL_CG_ZEROS];                                            \
  /* rows at a + aoff[r] (y, x: their window's origin, checked against d[20], d[21] when      \
   * d[20] > 0: a row whose window element is in the padding reads zeros); segments [gs,     \
   * gs + gn) of the flattened (g0, g1) */                                                       \
  static void jl_ctile_##S##_##NV(const T *a, const int64_t *aoff, const int64_t *ry,            \
                                  const int64_t *rx, const T *b, int64_t gs, int64_t gn,         \
                                  const int64_t *d, T *const *crow, int mr, int64_t ncols,       \
                                  bool load) {                                                   \
    jl_v##S acc[MR][NV];                                                                         \
    for (int r = 0; r < MR; r++)                                                                 \
      for (int v = 0; v < NV; v++) acc[r][v] = (jl_v##S){0};                                     \
    const int64_t len = d[15], sa = d[16], sb = d[17], check = d[20];                            \
    for (int64_t g = gs; g < gs + gn; g++) {                                                     \
      const int64_t g0 = g / d[10], g1 = g % d[10];                                              \
      const int64_t ao = g0 * d[11] + g1 * d[12];                                                \
      const T *bs = b + g0 * d[13] + g1 * d[14];                                                 \
      const T *ap[MR];                                                                           \
      for (int r = 0; r < MR; r++) {                                                             \
        const bool in = !check || ((uint64_t)(ry[r] + g0 * d[26]) < (uint64_t)d[20] &&           \
                                   (uint64_t)(rx[r] + g1 * d[27]) < (uint64_t)d[21]);            \
        ap[r] = in ? a + (aoff[r] + ao) : jl_cg_zeros_##S##_##NV;                                \
      }                                                                                          \
      for (int64_t p = 0; p < len; p++) {                                                        \
        jl_v##S bv[NV];                                                                          \
        for (int v = 0; v < NV; v++) memcpy(&bv[v], bs + p * sb + v * W, sizeof(jl_v##S));       \
        for (int r = 0; r < MR; r++) {                                                           \
          const T ar = ap[r][p * sa];                                                            \
          for (int v = 0; v < NV; v++) acc[r][v] += ar * bv[v];                                  \
        }                                                                                        \
      }                                                                                          \
    }                                                                                            \
    for (int r = 0; r < mr; r++) {                                                               \
      T *cr = crow[r];                                                                           \
      for (int v = 0; v < NV; v++) {                                                             \
        const int64_t j = v * W, w = ncols - j < W ? ncols - j : W;                              \
        if (w <= 0) break;                                                                       \
        jl_v##S t = acc[r][v];                                                                   \
        if (w == W) {                                                                            \
          if (load) {                                                                            \
            jl_v##S o;                                                                           \
            memcpy(&o, cr + j, sizeof o);                                                        \
            t += o;                                                                              \
          }                                                                                      \
          memcpy(cr + j, &t, sizeof t);                                                          \
        } else {                                                                                 \
          T part[W];                                                                             \
          memcpy(part, &t, sizeof t);                                                            \
          for (int64_t q = 0; q < w; q++) cr[j + q] = load ? cr[j + q] + part[q] : part[q];      \
        }                                                                                        \
      }                                                                                          \
    }                                                                                            \
  }
#if defined(__AVX__) && !defined(__AVX512F__)
/* 16 vector registers (AVX2): blocks of at most 2 vectors, 6 x 2 and 12 x 1 tiles (12
 * accumulators; the tiles above wanted 24 and kept them on the stack: LeNet conv2 forward
 * 16 -> 99 GFLOP/s on one Zen 4 core built with -mno-avx512f; see the commit) */
#define JL_CG_NVMAX 2
#define JL_CONV_TILES(T, S, W)                                                                   \
  JL_CONV_TILE(T, S, W, 6, 2)                                                                    \
  JL_CONV_TILE(T, S, W, 12, 1)
#define JL_CG_MR(nv) ((nv) == 2 ? 6 : 12)
#define JL_CG_TILE(S, nv, ...)                                                                   \
  ((nv) == 2 ? jl_ctile_##S##_2(__VA_ARGS__) : jl_ctile_##S##_1(__VA_ARGS__))
#else
#define JL_CG_NVMAX 4
#define JL_CONV_TILES(T, S, W)                                                                   \
  JL_CONV_TILE(T, S, W, 6, 4)                                                                    \
  JL_CONV_TILE(T, S, W, 8, 3)                                                                    \
  JL_CONV_TILE(T, S, W, 12, 2)                                                          \
  JL_CONV_TILE(T, S, W, 12, 1)
#define JL_CG_MR(nv) ((nv) == 4 ? 6 : (nv) == 3 ? 8 : 12)
#define JL_CG_TILE(S, nv, ...)                                                                   \
  ((nv) == 4 ? jl_ctile_##S##_4(__VA_ARGS__)                                                     \
   : (nv) == 3 ? jl_ctile_##S##_3(__VA_ARGS__)                                                   \
   : (nv) == 2 ? jl_ctile_##S##_2(__VA_ARGS__)                                                   \
               : jl_ctile_##S##_1(__VA_ARGS__))
#endif
JL_CONV_TILES(float, f32, JL_VEC_W_f32)
JL_CONV_TILES(double, f64, JL_VEC_W_f64)
#if !defined(__clang__)
#pragma GCC pop_options
#endif
#define JL_CG_W(S) JL_VEC_W_##S
#else /* no vector extension: one row, one column at a time */
#define JL_CG_W(S) 1
#define JL_CG_MR(nv) 1
#define JL_CG_NVMAX 4
#endif

#define JL_CONV_GEMM(T, S)                                                                       \
  /* rows [t0, t0 + mr) of the flattened (e0, e1, e2): their A and C pointers */                \
  JL_INLINE void jl_cg_rows_##S(const int64_t *d, T *c, int64_t t0, int mr, int MR,             \
                                int64_t *aoff, int64_t *ry, int64_t *rx, T **crow) {             \
    for (int r = 0; r < MR; r++) {                                                               \
      const int64_t t = t0 + (r < mr ? r : mr - 1); /* past the end: the last row again */       \
      const int64_t r2 = t % d[2], r1 = t / d[2] % d[1], r0 = t / d[2] / d[1];                   \
      aoff[r] = r0 * d[3] + r1 * d[4] + r2 * d[5] + d[28];                                       \
      ry[r] = r1 * d[24] - d[22];                                                                \
      rx[r] = r2 * d[25] - d[23];                                                                \
      crow[r] = c + r0 * d[6] + r1 * d[7] + r2 * d[8];                                           \
    }                                                                                            \
  }                                                                                              \
  void JL_RT(conv_gemm_##S)(const int64_t *d, const T *a, const T *b, T *c) {                    \
    const int64_t rows = d[0] * d[1] * d[2], nseg = d[9] * d[10], n = d[18];                     \
    const bool acc0 = d[19] != 0;                                                                \
    if (rows <= 0 || n <= 0) return;                                                             \
    const int64_t W = JL_CG_W(S), nvec = (n + W - 1) / W;                                        \
    /* segments per block: B's block about 192 KiB (in L2 beside A's rows) */                    \
    const int64_t seg_bytes = d[15] * (nvec < JL_CG_NVMAX ? nvec : JL_CG_NVMAX) * W *             \
                              (int64_t)sizeof(T);                                                \
    int64_t gblk = seg_bytes > 0 ? (JL_CG_BBLK + seg_bytes - 1) / seg_bytes : nseg;                  \
    if (gblk < 1) gblk = 1;                                                                      \
    jl_par_region r_ = {1, 0, 0, 0, 0};                                                         \
    if (rows * n * nseg * d[15] >= 4194304 && JL_OMP_THREADS_FREE())                            \
      jl_par_begin(&jl_par_conv_, &r_, (double)(rows * n * nseg * d[15]));                      \
    _Pragma("omp parallel num_threads(r_.nt)") {                                                \
      for (int64_t v0 = 0; v0 < nvec; v0 += JL_CG_NVMAX) {                                      \
        const int nv = nvec - v0 < JL_CG_NVMAX ? (int)(nvec - v0) : JL_CG_NVMAX;                \
        const int MR = JL_CG_MR(nv);                                                            \
        const int64_t ncols = n - v0 * W < nv * W ? n - v0 * W : nv * W;                         \
        const int64_t ntiles = (rows + MR - 1) / MR;                                             \
        for (int64_t gs = 0; gs < nseg; gs += gblk) {                                            \
          const int64_t gn = nseg - gs < gblk ? nseg - gs : gblk;                                \
          const bool load = acc0 || gs > 0;                                                      \
          _Pragma("omp for schedule(static) nowait")                                             \
          for (int64_t tile = 0; tile < ntiles; tile++) {                                        \
            int64_t aoff[12], ry[12], rx[12];                                                    \
            T *crow[12];                                                                         \
            const int mr = rows - tile * MR < MR ? (int)(rows - tile * MR) : MR;                 \
            jl_cg_rows_##S(d, c, tile * MR, mr, MR, aoff, ry, rx, crow);                         \
            for (int r = 0; r < mr; r++) crow[r] += v0 * W;                                      \
            JL_CG_TILE_CALL(S, nv, a, aoff, ry, rx, b + v0 * W, gs, gn, d, crow, mr, ncols,      \
                            load);                                                               \
          }                                                                                      \
        }                                                                                        \
      }                                                                                          \
    }                                                                                            \
    jl_par_end(&jl_par_conv_, &r_);                                                              \
  }
#if defined(JL_RT_VECTOR)
#define JL_CG_TILE_CALL(S, nv, ...) JL_CG_TILE(S, nv, __VA_ARGS__)
#else
#define JL_CG_TILE_CALL(S, nv, a, aoff, ry, rx, b, gs, gn, d, crow, mr, ncols, load)           \
  do { /* plain loops: one row, every column */                                                  \
    for (int64_t j = 0; j < (ncols); j++) {                                                      \
      double s_ = 0;                                                                             \
      for (int64_t g = (gs); g < (gs) + (gn); g++) {                                             \
        const int64_t g0 = g / (d)[10], g1 = g % (d)[10];                                        \
        if ((d)[20] > 0 && ((uint64_t)((ry)[0] + g0 * (d)[26]) >= (uint64_t)(d)[20] ||           \
                            (uint64_t)((rx)[0] + g1 * (d)[27]) >= (uint64_t)(d)[21]))            \
          continue;                                                                              \
        for (int64_t p = 0; p < (d)[15]; p++)                                                    \
          s_ += (double)(a)[(aoff)[0] + g0 * (d)[11] + g1 * (d)[12] + p * (d)[16]] *             \
                (double)(b)[g0 * (d)[13] + g1 * (d)[14] + p * (d)[17] + j];                      \
      }                                                                                          \
      (crow)[0][j] = (load) ? (crow)[0][j] + s_ : s_;                                            \
    }                                                                                            \
  } while (0)
#endif
JL_CONV_GEMM(float, f32)
JL_CONV_GEMM(double, f64)

/* ---- sums of two small products: C = A1 B1 + A2 B2 ---------------------------------------
 * A scan body's `h Wh + x Wx` (an RNN cell, backend/rules_dot.py folds it): both products
 * accumulate in one tile's registers, so C is written once and read by nothing but its
 * consumer; one call per step instead of two, with no choice-table lookup, no packing of
 * row-major B with whole vectors of columns, and no thread dispatch (these products are
 * small: the lowering takes them only up to JL_S2_MAXK = k1 + k2 and a bounded size).
 * A1: m x k1 (rows lda1 apart), B1: k1 x n (rows ldb1 apart), A2: m x k2, B2: k2 x n, all
 * row-major and read in place; C: m x n (rows ldc apart, not overlapping the operands).
 * Tiles of JL_S2_MR rows x JL_S2_NV vectors (then 4-row tiles); the last columns (fewer than
 * JL_S2_NV vectors, or a part of one) read B through a zero-padded copy of their strip and the
 * last 1-3 rows A through a zero-padded copy of their rows, both in `scratch`
 * (JL_S2_SCRATCH(k1 + k2) elements, the lowering's workspace), and store through a block
 * there. The multiply-adds are fused, in the order of A1 B1's terms, then A2 B2's. */
#define JL_S2_MAXK 1024
#define JL_S2_NBMAX 64 /* the widest column block, in elements: 4 x 64-byte vectors of f32 */
#define JL_S2_SCRATCH(k) ((k) * JL_S2_NBMAX + 4 * (k) + 12 * JL_S2_NBMAX)
#if defined(JL_RT_VECTOR)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")
#endif
/* 32 vector registers (AVX-512): 4 x 4 (16 accumulators; n = 64 floats is one block); else
 * 6 x 2 (12 accumulators, 2 vectors of B and a broadcast in 15 registers: the small kernel's
 * measured tile for AVX2) */
#if defined(__AVX512F__)
#define JL_S2_MR 4
#define JL_S2_NV 4
#else
#define JL_S2_MR 6
#define JL_S2_NV 2
#endif
/* B's vectors of a step in registers, each read by every row's multiply-add (gcc otherwise
 * read them again as memory operands of each: 20 loads per 16 multiply-adds in the 4 x 4 tile) */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__AVX512F__)
#define JL_S2_IN_REG(x) __asm__("" : "+v"(x))
#elif (defined(__x86_64__) || defined(__i386__)) && defined(__AVX__)
#define JL_S2_IN_REG(x) __asm__("" : "+x"(x))
#else
#define JL_S2_IN_REG(x) (void)0
#endif
/* The 6-row tiles (AVX2) stall on A2's rows where they come from memory (an RNN's x_t: 1000
 * steps, 32 x 64 floats each, one Zen 4 core, CPU time: the sum alone 5.5 ms with x_t streamed,
 * 4.8 with one x_t in L1; 4-row tiles lose ~0.1): the rows after A2's, where a scan over stacked
 * inputs keeps the next step's, are requested into L2 at the start of each call (up to 32 KiB;
 * prefetches never fault, and rows that are not the next step's cost only their requests).
 * Measured there: the sum 5.5 -> 5.0-5.1 ms, the RNN's step 6.5 -> 6.1; into L1 instead,
 * or a tile's worth at a time, gained half of that; on AVX-512 (4-row tiles) the same requests
 * cost 0.15 ms, so that build makes none. */
#if JL_S2_MR == 6
#define JL_S2_NEXT_ROWS(T)                                                                       \
  do {                                                                                           \
    if (m * lda2 * (int64_t)sizeof(T) <= (32 << 10))                                             \
      for (int64_t r = m; r < 2 * m; r++)                                                        \
        for (int64_t p = 0; p < k2; p += 64 / (int64_t)sizeof(T))                                \
          __builtin_prefetch((const void *)((uintptr_t)a2 + (uintptr_t)(r * lda2 + p) * sizeof(T)), \
                             0, 2);                                                              \
  } while (0)
#else
#define JL_S2_NEXT_ROWS(T) (void)0
#endif
#define JL_SUM2(T, S, W)                                                                         \
  __attribute__((always_inline)) JL_INLINE void jl_s2_tile_##S(                                  \
      int mr, int64_t k1, const T *a1, int64_t lda1, const T *b1, int64_t ldb1, int64_t k2,      \
      const T *a2, int64_t lda2, const T *b2, int64_t ldb2, T *c, int64_t ldc) {                 \
    jl_v##S acc[JL_S2_MR][JL_S2_NV];                                                             \
    for (int r = 0; r < mr; r++)                                                                 \
      for (int v = 0; v < JL_S2_NV; v++) acc[r][v] = (jl_v##S){0};                               \
    for (int64_t p = 0; p < k1; p++) {                                                           \
      jl_v##S bv[JL_S2_NV];                                                                      \
      for (int v = 0; v < JL_S2_NV; v++) {                                                     \
        memcpy(&bv[v], b1 + p * ldb1 + v * W, sizeof(jl_v##S));                               \
        JL_S2_IN_REG(bv[v]);                                                                     \
      }                                                                                          \
      for (int r = 0; r < mr; r++) {                                                             \
        const T ar = a1[r * lda1 + p];                                                           \
        for (int v = 0; v < JL_S2_NV; v++) acc[r][v] += ar * bv[v];                              \
      }                                                                                          \
    }                                                                                            \
    for (int64_t p = 0; p < k2; p++) {                                                           \
      jl_v##S bv[JL_S2_NV];                                                                      \
      for (int v = 0; v < JL_S2_NV; v++) {                                                     \
        memcpy(&bv[v], b2 + p * ldb2 + v * W, sizeof(jl_v##S));                               \
        JL_S2_IN_REG(bv[v]);                                                                     \
      }                                                                                          \
      for (int r = 0; r < mr; r++) {                                                             \
        const T ar = a2[r * lda2 + p];                                                           \
        for (int v = 0; v < JL_S2_NV; v++) acc[r][v] += ar * bv[v];                              \
      }                                                                                          \
    }                                                                                            \
    for (int r = 0; r < mr; r++)                                                                 \
      for (int v = 0; v < JL_S2_NV; v++) memcpy(c + r * ldc + v * W, &acc[r][v], sizeof(jl_v##S)); \
  }                                                                                              \
  void JL_RT(gemm_sum2_##S)(int64_t m, int64_t n, int64_t k1, const T *a1, int64_t lda1,         \
                            const T *b1, int64_t ldb1, int64_t k2, const T *a2, int64_t lda2,    \
                            const T *b2, int64_t ldb2, T *c, int64_t ldc, T *scratch,            \
                            int64_t nscratch) {                                                  \
    const int64_t nb = JL_S2_NV * W, k = k1 + k2;                                                \
    if (m <= 0 || n <= 0) return;                                                                \
    if (k > JL_S2_MAXK || nscratch < JL_S2_SCRATCH(k)) { /* (the lowering never asks this) */   \
      jl_gemm_loops_##S(false, false, m, n, k1, a1, lda1, b1, ldb1, c, ldc);                     \
      for (int64_t i = 0; i < m; i++)                                                            \
        for (int64_t j = 0; j < n; j++) {                                                        \
          T s = 0;                                                                               \
          for (int64_t p = 0; p < k2; p++) s += a2[i * lda2 + p] * b2[p * ldb2 + j];             \
          c[i * ldc + j] += s;                                                                   \
        }                                                                                        \
      return;                                                                                    \
    }                                                                                            \
    T *bpk = scratch, *apk = bpk + k * nb, *cpk = apk + 4 * k; /* B strip, A rows, C block */    \
    /* row tiles: MR rows, then 4 (one MR-row tile fewer where the rest then makes whole 4-row \
     * tiles: 32 rows in 6-row tiles as 4 of them and 2 of 4 rows), then the last 1-3 rows */  \
    int64_t end = m / JL_S2_MR * JL_S2_MR;                                                       \
    if ((m - end) % 4 && end >= JL_S2_MR && (m - end + JL_S2_MR) % 4 == 0) end -= JL_S2_MR;      \
    const int64_t end4 = end + (m - end) / 4 * 4, rest = m - end4;                               \
    if (rest) { /* the last rows of A1 | A2, zero padded to 4 rows of k */                       \
      for (int r = 0; r < 4; r++)                                                                \
        for (int64_t p = 0; p < k; p++)                                                          \
          apk[r * k + p] = r >= rest ? (T)0                                                      \
                           : p < k1  ? a1[(end4 + r) * lda1 + p]                                 \
                                     : a2[(end4 + r) * lda2 + p - k1];                           \
    }                                                                                            \
    const int64_t jfull = n / nb * nb, nc = n - jfull; /* the last nc columns: a partial block */ \
    if (nc) /* B1 | B2's strip of them, zero padded to whole vectors */                          \
      for (int64_t p = 0; p < k; p++)                                                            \
        for (int64_t q = 0; q < nb; q++)                                                         \
          bpk[p * nb + q] = q >= nc ? (T)0 : p < k1 ? b1[p * ldb1 + jfull + q]                   \
                                                    : b2[(p - k1) * ldb2 + jfull + q];           \
    JL_S2_NEXT_ROWS(T);                                                                          \
    /* each row tile over every column block: its rows of A (x_t: from memory at each step of \
     * an RNN) read from L1 after the first block */                                            \
    for (int64_t i = 0; i < end4 + (rest ? 4 : 0);) {                                            \
      const int mr = i < end ? JL_S2_MR : 4;                                                     \
      /* the next tile's rows of A2 requested now (an RNN's x_t, from memory at each step: a  \
       * line of each row at every 64 bytes of k was a stall with AVX2's quicker tiles: 1000   \
       * steps, x streamed, one Zen 4 core, 7.0 -> 6.5 ms) */                                   \
      for (int64_t r = i + mr; r < i + 2 * mr && r < m; r++)                                     \
        for (int64_t p = 0; p < k2; p += 64 / (int64_t)sizeof(T))                                \
          __builtin_prefetch(a2 + r * lda2 + p, 0, 3);                                           \
      const bool pad = i >= end4;                                                                \
      const T *r1 = pad ? apk : a1 + i * lda1, *r2 = pad ? apk + k1 : a2 + i * lda2;             \
      const int64_t s1 = pad ? k : lda1, s2 = pad ? k : lda2;                                    \
      for (int64_t j = 0; j < n; j += nb) {                                                      \
        const bool part = j >= jfull, via = part || pad; /* stored through cpk */                \
        const T *p1 = part ? bpk : b1 + j, *p2 = part ? bpk + k1 * nb : b2 + j;                  \
        const int64_t l1 = part ? nb : ldb1, l2 = part ? nb : ldb2;                              \
        T *ci = via ? cpk : c + i * ldc + j;                                                     \
        if (mr == JL_S2_MR)                                                                      \
          jl_s2_tile_##S(JL_S2_MR, k1, r1, s1, p1, l1, k2, r2, s2, p2, l2, ci, via ? nb : ldc);  \
        else                                                                                     \
          jl_s2_tile_##S(4, k1, r1, s1, p1, l1, k2, r2, s2, p2, l2, ci, via ? nb : ldc);         \
        if (via)                                                                                 \
          for (int r = 0; r < (pad ? rest : mr); r++)                                            \
            memcpy(c + (i + r) * ldc + j, cpk + r * nb, (size_t)(part ? nc : nb) * sizeof(T));   \
      }                                                                                          \
      i += mr;                                                                                   \
    }                                                                                            \
  }
JL_SUM2(float, f32, JL_VEC_W_f32)
JL_SUM2(double, f64, JL_VEC_W_f64)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
#elif defined(JL_HAVE_BLAS) /* the basic tier (JL_RT_BASIC): BLAS twice, the second adding */
#define JL_SUM2(T, S, BLASFN)                                                                    \
  void JL_RT(gemm_sum2_##S)(int64_t m, int64_t n, int64_t k1, const T *a1, int64_t lda1,         \
                            const T *b1, int64_t ldb1, int64_t k2, const T *a2, int64_t lda2,    \
                            const T *b2, int64_t ldb2, T *c, int64_t ldc, T *scratch,            \
                            int64_t nscratch) {                                                  \
    (void)scratch, (void)nscratch;                                                               \
    if (m <= 0 || n <= 0) return;                                                                \
    if (k1 > 0)                                                                                  \
      BLASFN(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k1, 1, a1, lda1, b1, ldb1, 0, c,   \
             ldc);                                                                               \
    else                                                                                         \
      for (int64_t i = 0; i < m; i++)                                                            \
        for (int64_t j = 0; j < n; j++) c[i * ldc + j] = 0;                                      \
    if (k2 > 0)                                                                                  \
      BLASFN(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k2, 1, a2, lda2, b2, ldb2, 1, c,   \
             ldc);                                                                               \
  }
JL_SUM2(float, f32, scipy_cblas_sgemm)
JL_SUM2(double, f64, scipy_cblas_dgemm)
#else /* plain loops */
#define JL_SUM2(T, S)                                                                            \
  void JL_RT(gemm_sum2_##S)(int64_t m, int64_t n, int64_t k1, const T *a1, int64_t lda1,         \
                            const T *b1, int64_t ldb1, int64_t k2, const T *a2, int64_t lda2,    \
                            const T *b2, int64_t ldb2, T *c, int64_t ldc, T *scratch,            \
                            int64_t nscratch) {                                                  \
    (void)scratch, (void)nscratch;                                                               \
    for (int64_t i = 0; i < m; i++)                                                              \
      for (int64_t j = 0; j < n; j++) {                                                          \
        T s = 0;                                                                                 \
        for (int64_t p = 0; p < k1; p++) s += a1[i * lda1 + p] * b1[p * ldb1 + j];              \
        for (int64_t p = 0; p < k2; p++) s += a2[i * lda2 + p] * b2[p * ldb2 + j];              \
        c[i * ldc + j] = s;                                                                      \
      }                                                                                          \
  }
JL_SUM2(float, f32)
JL_SUM2(double, f64)
#endif
