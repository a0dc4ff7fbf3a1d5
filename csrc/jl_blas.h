/* jl_blas.h: the matrix products of dot_general, C = A B, row-major.
 *
 * With JL_HAVE_BLAS defined (jaxlite/backend/compile.py defines it, with the include and library
 * directories of the scipy-openblas32 wheel) they call cblas_sgemm / cblas_dgemm; without it,
 * or for sizes beyond BLAS's 32-bit integers, a plain C loop nest computes the same product.
 *
 * A is m x k, stored transposed (as k x m) when ta; B is k x n, stored transposed when tb;
 * lda, ldb, ldc are the row strides of the stored matrices, in elements.
 */
#ifndef JL_BLAS_H
#define JL_BLAS_H

#include "jaxlite.h"
#ifdef JL_HAVE_BLAS
#include <cblas.h>
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

#ifdef JL_HAVE_BLAS
#define JL_GEMM(T, S, CBLAS_GEMM)                                                                \
  JL_INLINE void jl_gemm_##S(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T *a,      \
                             int64_t lda, const T *b, int64_t ldb, T *c, int64_t ldc) {          \
    if (m <= 0 || n <= 0) return;                                                                \
    if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX || lda > INT32_MAX || ldb > INT32_MAX || \
        ldc > INT32_MAX) {                                                                       \
      jl_gemm_loops_##S(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);                                \
      return;                                                                                    \
    }                                                                                            \
    CBLAS_GEMM(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,    \
               (blasint)m, (blasint)n, (blasint)k, 1, a, (blasint)lda, b, (blasint)ldb, 0, c,    \
               (blasint)ldc);                                                                    \
  }
JL_GEMM(float, f32, scipy_cblas_sgemm)
JL_GEMM(double, f64, scipy_cblas_dgemm)
#else
#define jl_gemm_f32 jl_gemm_loops_f32
#define jl_gemm_f64 jl_gemm_loops_f64
#endif

#endif /* JL_BLAS_H */
