/* jl_math.h: exp, log, tanh and logistic that vectorize.
 *
 * libm's expf and friends are scalar calls: a loop that calls them runs one element at a time.
 * These are branch-free (selects, not jumps) static inline functions, so that `#pragma omp simd`
 * loops compute 16 float32 (or 8 float64) of them per AVX-512 instruction, as XLA's are.
 * Algorithms: Cody-Waite range reduction and the minimax polynomials of Cephes (S. Moshier),
 * within a few ulp of the correctly rounded result over the whole range, with IEEE special
 * values (inf, nan, -0.0, denormal inputs and results); tests/test_jl_math.py checks them against
 * NumPy on every kind of float.
 */
#ifndef JL_MATH_H
#define JL_MATH_H

#include "jaxlite.h"

#if defined(__FMA__) || defined(__aarch64__)
#define JL_FMAF(a, b, c) fmaf(a, b, c)
#define JL_FMA(a, b, c) fma(a, b, c)
#else
#define JL_FMAF(a, b, c) ((a) * (b) + (c))
#define JL_FMA(a, b, c) ((a) * (b) + (c))
#endif

JL_INLINE float jl_f32_from_bits(uint32_t b) {
  float f;
  memcpy(&f, &b, 4);
  return f;
}
JL_INLINE uint32_t jl_bits_f32(float f) {
  uint32_t b;
  memcpy(&b, &f, 4);
  return b;
}
JL_INLINE double jl_f64_from_bits(uint64_t b) {
  double f;
  memcpy(&f, &b, 8);
  return f;
}
JL_INLINE uint64_t jl_bits_f64(double f) {
  uint64_t b;
  memcpy(&b, &f, 8);
  return b;
}

/* `mask` (all ones or zero) ? a : b, bit by bit. NB: gcc turns a ?: that feeds a division into
 * two masked divisions, one per arm; this select it leaves alone. */
JL_INLINE float jl_pick_f32(uint32_t mask, float a, float b) {
  return jl_f32_from_bits((jl_bits_f32(a) & mask) | (jl_bits_f32(b) & ~mask));
}

/* p 2^n for an integral float n in [-159, 144], in two halves so that a denormal result is
 * rounded once and a huge one overflows to inf. */
JL_INLINE float jl_scale2_f32(float p, float n) {
  const int32_t ni = (int32_t)n, n1 = ni >> 1, n2 = ni - n1; /* NB: >> of a negative: floor */
  const float s1 = jl_f32_from_bits((uint32_t)(n1 + 127) << 23);
  const float s2 = jl_f32_from_bits((uint32_t)(n2 + 127) << 23);
  return p * s1 * s2;
}

/* ---- exp ------------------------------------------------------------------------------ */

/* e^t = 2^n (1 + q): returns q = e^r - 1 (Cephes' minimax polynomial, within 1 ulp) for
 * r = t - n ln2, with n = round(t / ln2) stored in *n; |r| <= ln2 / 2. */
JL_INLINE float jl_expm1_reduced_f32(float t, float *n_out) {
  const float n = rintf(t * 1.44269504088896341f);
  float r = JL_FMAF(n, -0.693359375f, t);
  r = JL_FMAF(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = JL_FMAF(p, r, 1.3981999507e-3f);
  p = JL_FMAF(p, r, 8.3334519073e-3f);
  p = JL_FMAF(p, r, 4.1665795894e-2f);
  p = JL_FMAF(p, r, 1.6666665459e-1f);
  p = JL_FMAF(p, r, 5.0000001201e-1f);
  *n_out = n;
  return JL_FMAF(p, r * r, r);
}

/* e^x = 2^n e^r with n = round(x / ln 2), |r| <= ln2 / 2; 2^n applied in two halves so that
 * denormal results are rounded once. Special values need no selects (selects of whole results
 * make compilers keep several masked copies of the work): x is clamped to [-110, 100], where
 * 2^n underflows to 0 and overflows to inf by itself, and a NaN passes every step. */
JL_INLINE float jl_exp_f32(float x) {
  float xc = x < -110.0f ? -110.0f : x; /* NaN compares false: it stays NaN */
  xc = xc > 100.0f ? 100.0f : xc;
  float n;
  const float p = jl_expm1_reduced_f32(xc, &n) + 1.0f;
  return jl_scale2_f32(p, n);
}

JL_INLINE double jl_exp_f64(double x) {
  double xc = x < -760.0 ? -760.0 : x; /* as in float32: 2^n under- and overflows by itself */
  xc = xc > 720.0 ? 720.0 : xc;
  const double n = rint(xc * 1.4426950408889634073599);
  double r = JL_FMA(n, -6.93145751953125e-1, xc);
  r = JL_FMA(n, -1.42860682030941723212e-6, r);
  /* Cephes exp: e^r = 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2)) */
  const double rr = r * r;
  const double px = r * JL_FMA(JL_FMA(1.26177193074810590878e-4, rr, 3.02994407707441961300e-2),
                               rr, 9.99999999999999999910e-1);
  const double qx = JL_FMA(JL_FMA(JL_FMA(3.00198505138664455042e-6, rr,
                                         2.52448340349684104192e-3), rr,
                                  2.27265548208155028766e-1), rr, 2.00000000000000000009e0);
  const double p = 1.0 + 2.0 * (px / (qx - px));
  const int64_t ni = (int64_t)n, n1 = ni >> 1, n2 = ni - n1;
  const double s1 = jl_f64_from_bits((uint64_t)(n1 + 1023) << 52);
  const double s2 = jl_f64_from_bits((uint64_t)(n2 + 1023) << 52);
  return p * s1 * s2;
}

/* ---- log ------------------------------------------------------------------------------ */

/* log x = log m + e ln 2 with x = m 2^e, m in [sqrt(1/2), sqrt(2)); denormals are scaled
 * by 2^25 first. */
JL_INLINE float jl_log_f32(float x) {
  const bool tiny = x < 1.17549435e-38f;
  const float xs = tiny ? x * 33554432.0f : x; /* 2^25 */
  const uint32_t bits = jl_bits_f32(xs);
  int32_t e = (int32_t)((bits >> 23) & 0xff) - 126;
  float m = jl_f32_from_bits((bits & 0x007fffffu) | 0x3f000000u); /* in [0.5, 1) */
  const bool low = m < 0.707106781186547524f;
  e = low ? e - 1 : e;
  m = low ? m + m - 1.0f : m - 1.0f;
  const float fe = (float)e - (tiny ? 25.0f : 0.0f);
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = JL_FMAF(y, m, -1.1514610310e-1f);
  y = JL_FMAF(y, m, 1.1676998740e-1f);
  y = JL_FMAF(y, m, -1.2420140846e-1f);
  y = JL_FMAF(y, m, 1.4249322787e-1f);
  y = JL_FMAF(y, m, -1.6668057665e-1f);
  y = JL_FMAF(y, m, 2.0000714765e-1f);
  y = JL_FMAF(y, m, -2.4999993993e-1f);
  y = JL_FMAF(y, m, 3.3333331174e-1f);
  y = y * m * z;
  y = JL_FMAF(fe, -2.12194440e-4f, y);
  y = JL_FMAF(z, -0.5f, y);
  const float r = JL_FMAF(fe, 0.693359375f, m + y);
  return isnan(x) ? x : x < 0 ? NAN : x == 0 ? -INFINITY : x == INFINITY ? x : r;
}

JL_INLINE double jl_log_f64(double x) {
  const bool tiny = x < 2.2250738585072014e-308;
  const double xs = tiny ? x * 18014398509481984.0 : x; /* 2^54 */
  const uint64_t bits = jl_bits_f64(xs);
  int64_t e = (int64_t)((bits >> 52) & 0x7ff) - 1022;
  double m = jl_f64_from_bits((bits & 0x000fffffffffffffull) | 0x3fe0000000000000ull);
  const bool low = m < 0.70710678118654752440;
  e = low ? e - 1 : e;
  m = low ? m + m - 1.0 : m - 1.0;
  const double fe = (double)e - (tiny ? 54.0 : 0.0);
  /* Cephes log: log(1 + m) = m - m^2 / 2 + m^3 P(m) / Q(m) */
  const double z = m * m;
  double p = 1.01875663804580931796e-4;
  p = JL_FMA(p, m, 4.97494994976747001425e-1);
  p = JL_FMA(p, m, 4.70579119878881725854e0);
  p = JL_FMA(p, m, 1.44989225341610930846e1);
  p = JL_FMA(p, m, 1.79368678507819816313e1);
  p = JL_FMA(p, m, 7.70838733755885391666e0);
  double q = m + 1.12873587189167450590e1;
  q = JL_FMA(q, m, 4.52279145837532221105e1);
  q = JL_FMA(q, m, 8.29875266912776603211e1);
  q = JL_FMA(q, m, 7.11544750618563894466e1);
  q = JL_FMA(q, m, 2.31251620126765340583e1);
  double y = m * (z * p / q);
  y = JL_FMA(fe, -2.121944400546905827679e-4, y);
  y = JL_FMA(z, -0.5, y);
  const double r = JL_FMA(fe, 0.693359375, m + y);
  return isnan(x) ? x : x < 0 ? NAN : x == 0 ? -INFINITY : x == INFINITY ? x : r;
}

/* ---- tanh and logistic ---------------------------------------------------------------- */

/* tanh |x| from m = e^{-2|x|} - 1, computed as expm1 is: with -2|x| = n ln2 + r, m = 2^n (1 + q)
 * - 1 = fma(2^n, q, 2^n - 1), q = e^r - 1 from exp's polynomial. Below |x| = 0.55 (tanh 0.5),
 * tanh = -m / (2 + m), accurate where 1 - e^{-2|x|} would cancel, so no separate small-x
 * polynomial is needed; above, tanh = 1 - 2e / (2 + m) with e = m + 1, whose error is a small
 * fraction of the result (the first form doubles m's error as tanh nears 1). One division
 * serves both. |x| is clamped at 20 (tanh is 1 in float32 from 9.01); a NaN passes every step;
 * the sign of x (and of zero) is copied onto the result. Within 2 ulp of the correctly rounded
 * tanh (tests/test_jl_math.py). */
JL_INLINE float jl_tanh_f32(float x) {
  const float a = fabsf(x);
  const float ac = a > 20.0f ? 20.0f : a; /* NaN passes */
  const float t = -2.0f * ac;
  float n;
  const float q = jl_expm1_reduced_f32(t, &n);
  const float s = jl_f32_from_bits((uint32_t)((int32_t)n + 127) << 23);
  const float m = JL_FMAF(s, q, s - 1.0f);
  const uint32_t big = 0u - (uint32_t)(a >= 0.55f); /* all ones or zero */
  const float y = jl_pick_f32(big, 2.0f * JL_FMAF(s, q, s), -m) / (2.0f + m);
  return copysignf(jl_pick_f32(big, 1.0f - y, y), x);
}

JL_INLINE double jl_tanh_f64(double x) {
  const double a = fabs(x);
  const double big = 1.0 - 2.0 / (jl_exp_f64(a + a) + 1.0);
  const double z = x * x;
  const double p = JL_FMA(JL_FMA(-9.64399179425052238628e-1, z, -9.92877231001918586564e1), z,
                          -1.61468768441708447952e3);
  const double q = JL_FMA(JL_FMA(z + 1.12811678491632931402e2, z, 2.23548839060100448583e3), z,
                          4.84406305325125486048e3);
  const double small = JL_FMA(z * p / q, a, a);
  return copysign(a >= 0.625 ? big : small, x);
}

/* logistic: the eager formula (exp(-|x|) never overflows) on the vectorizable exp (clamped
 * below only: its argument is never positive), with one division: e / (1 + e) is computed as
 * e * (1 / (1 + e)) (at most 1 ulp further). */
JL_INLINE float jl_logistic_f32(float x) {
  const float t = -fabsf(x);
  const float tc = t < -110.0f ? -110.0f : t; /* NaN passes */
  float n;
  const float p = jl_expm1_reduced_f32(tc, &n) + 1.0f; /* NB: sets n before it is read */
  const float e = jl_scale2_f32(p, n);
  const float d = 1.0f / (1.0f + e);
  return x >= 0 ? d : e * d;
}
JL_INLINE double jl_logistic_f64(double x) {
  const double e = jl_exp_f64(-fabs(x));
  const double d = 1.0 / (1.0 + e);
  return x >= 0 ? d : e * d;
}

#endif /* JL_MATH_H */
