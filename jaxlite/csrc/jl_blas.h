/* jl_blas.h: the matrix products of dot_general, as kernels see them: C = A B, row-major.
 *
 * They are defined in jl_gemm.c, jaxlite's runtime library, which jaxlite/backend/compile.py
 * compiles once per machine and loads (with its symbols global) before any kernel that includes
 * this header; a kernel only calls them. A is m x k, stored transposed (as k x m) when ta; B is
 * k x n, stored transposed when tb; lda, ldb, ldc are the row strides of the stored matrices,
 * in elements. C is overwritten.
 *
 * JL_RT_TAG (defined on the compiler's command line for the library and for its kernels) is
 * part of every exported name: a kernel links to the very build it was compiled for.
 */
#ifndef JL_BLAS_H
#define JL_BLAS_H

#include "jaxlite.h"

#ifndef JL_RT_TAG
#error "JL_RT_TAG is not defined: jaxlite/backend/compile.py defines it for kernels with products"
#endif
#define JL_RT_CAT2_(a, b) a##_##b
#define JL_RT_CAT_(a, b) JL_RT_CAT2_(a, b)
#define JL_RT(name) JL_RT_CAT_(jl_rt_##name, JL_RT_TAG)

void JL_RT(gemm_f32)(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float *a,
                     int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc);
void JL_RT(gemm_f64)(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double *a,
                     int64_t lda, const double *b, int64_t ldb, double *c, int64_t ldc);
/* The same with the caller's scratch: `nscratch` elements of C's type, 64-byte aligned, where
 * the kernels pack B (and A) instead of allocating or using the stack; the lowering reserves
 * it in the kernel's workspace (backend/rules_dot.py: `scratch_elems`). With JL_GEMM_NO_ALLOC
 * (jaxlite.export) such a product never allocates: it then runs on the calling thread. */
void JL_RT(gemm_ws_f32)(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float *a,
                        int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
                        float *scratch, int64_t nscratch);
void JL_RT(gemm_ws_f64)(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double *a,
                        int64_t lda, const double *b, int64_t ldb, double *c, int64_t ldc,
                        double *scratch, int64_t nscratch);
/* C = cin + alpha (A B) (cin: rows ldcin apart, not overlapping C): a product and the update
 * that reads it, `w - lr * grad` of an SGD step (backend/rules_dot.py folds it), with the
 * roundings of the two. */
void JL_RT(gemm_upd_f32)(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float *a,
                         int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
                         float *scratch, int64_t nscratch, float alpha, const float *cin,
                         int64_t ldcin);
void JL_RT(gemm_upd_f64)(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double *a,
                         int64_t lda, const double *b, int64_t ldb, double *c, int64_t ldc,
                         double *scratch, int64_t nscratch, double alpha, const double *cin,
                         int64_t ldcin);
/* C = A1 B1 + A2 B2, all row-major (A1 m x k1, B1 k1 x n, A2 m x k2, B2 k2 x n), read in
 * place: two small products summed in one call (backend/fold_sum2.py folds a scan body's
 * `h @ Wh + x @ Wx`); scratch: JL_S2_SCRATCH(k1 + k2) elements (jl_gemm.c). */
void JL_RT(gemm_sum2_f32)(int64_t m, int64_t n, int64_t k1, const float *a1, int64_t lda1,
                          const float *b1, int64_t ldb1, int64_t k2, const float *a2,
                          int64_t lda2, const float *b2, int64_t ldb2, float *c, int64_t ldc,
                          float *scratch, int64_t nscratch);
void JL_RT(gemm_sum2_f64)(int64_t m, int64_t n, int64_t k1, const double *a1, int64_t lda1,
                          const double *b1, int64_t ldb1, int64_t k2, const double *a2,
                          int64_t lda2, const double *b2, int64_t ldb2, double *c, int64_t ldc,
                          double *scratch, int64_t nscratch);
#define jl_gemm_sum2_f32 JL_RT(gemm_sum2_f32)
#define jl_gemm_sum2_f64 JL_RT(gemm_sum2_f64)
/* A convolution's product read in place (implicit GEMM): see jl_gemm.c, JL_CONV_GEMM; `d` holds
 * its 20 sizes and strides. */
void JL_RT(conv_gemm_f32)(const int64_t *d, const float *a, const float *b, float *c);
void JL_RT(conv_gemm_f64)(const int64_t *d, const double *a, const double *b, double *c);
#define jl_conv_gemm_f32 JL_RT(conv_gemm_f32)
#define jl_conv_gemm_f64 JL_RT(conv_gemm_f64)
#define jl_gemm_f32 JL_RT(gemm_f32)
#define jl_gemm_f64 JL_RT(gemm_f64)
#define jl_gemm_ws_f32 JL_RT(gemm_ws_f32)
#define jl_gemm_ws_f64 JL_RT(gemm_ws_f64)
#define jl_gemm_upd_f32 JL_RT(gemm_upd_f32)
#define jl_gemm_upd_f64 JL_RT(gemm_upd_f64)

#endif /* JL_BLAS_H */
