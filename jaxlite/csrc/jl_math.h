/* jl_math.h: exp, log, tanh and logistic that vectorize.
 *
 * libm's expf and friends are scalar calls: a loop that calls them runs one element at a time.
 * These are branch-free (selects, not jumps) static inline functions, so that `#pragma omp simd`
 * loops compute 16 float32 (or 8 float64) of them per AVX-512 instruction, as XLA's are.
 * Algorithms: Cody-Waite range reduction and the minimax polynomials of Cephes (S. Moshier; for
 * float32 e^r - 1, one fitted for jaxlite, a degree shorter), within a few ulp of the correctly
 * rounded result over the whole range, with IEEE special values (inf, nan, -0.0, denormal inputs
 * and results); tests/test_jl_math.py checks them against NumPy on every kind of float.
 */
#ifndef JL_MATH_H
#define JL_MATH_H

#include "jaxlite.h"

#if defined(__FMA__) || defined(__aarch64__)
#define JL_HAS_FMA 1
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

/* p 2^n for an integral float n in [-159, 144], in two halves so that a denormal result is
 * rounded once and a huge one overflows to inf. */
JL_INLINE float jl_scale2_f32(float p, float n) {
  const int32_t ni = (int32_t)n, n1 = ni >> 1, n2 = ni - n1; /* NB: >> of a negative: floor */
  const float s1 = jl_f32_from_bits((uint32_t)(n1 + 127) << 23);
  const float s2 = jl_f32_from_bits((uint32_t)(n2 + 127) << 23);
  return p * s1 * s2;
}

/* ---- exp ------------------------------------------------------------------------------ */

/* e^t = 2^n (1 + q) with n = round(t / ln2), q = e^r - 1, r = t - n ln2, |r| <= ln2 / 2.
 *
 * n by the magic-number trick: k = fma(t, 1/ln2, JL_EXP_MAGIC_F32(b)) lies in [2^23, 2^24),
 * where the floats are the integers, so its one rounding gives k = n + 0x1.8p23 + 127 + b, and
 * n = k - JL_EXP_MAGIC_F32(b) exactly; as the bits of 0x1.8p23 end in 22 zeros, the 9 lowest bits
 * of k are n + 127 + b, which shifted left by 23 are the float 2^(n + b) when
 * 1 <= n + 127 + b <= 254 (jl_exp2_of_magic_f32): no rounding instruction, no float -> int
 * conversion, one shift. (Without FMA, t / ln2 is rounded first: n may then be off by one at a
 * half-integer, |r| a hair above ln2 / 2, which the polynomial's interval allows.) */
#define JL_EXP_MAGIC_F32(b) ((float)(12582912 + 127 + (b)))

/* k for e^(c t) (c a power of two: c / ln2 is exact) */
JL_INLINE float jl_exp_magic_f32(float t, float c, float magic) {
  return JL_FMAF(t, 1.44269504088896341f * c, magic);
}
JL_INLINE float jl_exp2_of_magic_f32(float k) {
  return jl_f32_from_bits(jl_bits_f32(k) << 23);
}

/* q = e^r - 1 = r + r^2 P(r) for |r| <= 1.0002 ln2 / 2: P of degree 4 with float32 coefficients
 * fitted for the minimax relative error of q, 0.23 2^-24 (Cephes' degree 5 has 0.06 2^-24; both are
 * well under the roundings of the evaluation), so q is within 1 ulp, also where it is tiny. Given
 * u = r / c for a power of two c, it returns q / c: the coefficients scaled by powers of c are
 * exact, every rounding the same, scaled. */
JL_INLINE float jl_expm1_poly_f32(float u, float c) {
  float p = 1.3870224357e-03f * (c * c * c * c * c);
  p = JL_FMAF(p, u, 8.3662588149e-03f * (c * c * c * c));
  p = JL_FMAF(p, u, 4.1667439044e-02f * (c * c * c));
  p = JL_FMAF(p, u, 1.6666546464e-01f * (c * c));
  p = JL_FMAF(p, u, 4.9999997020e-01f * c);
  return JL_FMAF(p, u * u, u);
}

/* q for t in [-110, 100], with n in *n and 2^(n + b) in *s (magic = JL_EXP_MAGIC_F32(b); *s is
 * valid when 1 <= n + 127 + b <= 254); r = t - n ln2 in two steps (Cody-Waite: n 0.693359375 is
 * exact), accurate for every n. */
JL_INLINE float jl_exp_reduce_f32(float t, float magic, float *n_out, float *s_out) {
  const float k = jl_exp_magic_f32(t, 1.0f, magic);
  const float n = k - magic;
  float r = JL_FMAF(n, -0.693359375f, t);
  r = JL_FMAF(n, 2.12194440e-4f, r);
  *n_out = n;
  *s_out = jl_exp2_of_magic_f32(k);
  return jl_expm1_poly_f32(r, 1.0f);
}

/* e^x = 2^n e^r with n = round(x / ln 2), |r| <= ln2 / 2; 2^n applied in two halves so that
 * denormal results are rounded once. Special values need no selects (selects of whole results
 * make compilers keep several masked copies of the work): x is clamped to [-110, 100], where
 * 2^n underflows to 0 and overflows to inf by itself, and a NaN passes every step. */
JL_INLINE float jl_exp_f32(float x) {
  float xc = x < -110.0f ? -110.0f : x; /* NaN compares false: it stays NaN */
  xc = xc > 100.0f ? 100.0f : xc;
  float n, s; /* s: unused (n is out of its range), left to dead-code elimination */
  const float p = jl_exp_reduce_f32(xc, JL_EXP_MAGIC_F32(0), &n, &s) + 1.0f;
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

/* ---- log1p -------------------------------------------------------------------------------- */

/* log(1 + x) = log(u) * x / (u - 1) with u = 1 + x rounded (Goldberg's trick: the rounding of u
 * cancels in the ratio), x itself where u rounds to 1; vectorizes, where libm's log1p is a call
 * per element (softplus, logaddexp: 7% of the VAE step of benchmarks/bench_vae.py). */
#define JL_LOG1P(T, S)                                                  \
  JL_INLINE T jl_log1p_##S(T x) {                                       \
    const T u = (T)1 + x, d = u - (T)1;                                 \
    const T r = jl_log_##S(u) * (x / d);                                \
    return d == (T)0 ? x : u == (T)INFINITY ? u : r; /* NaN falls to r */ \
  }
JL_LOG1P(float, f32)
JL_LOG1P(double, f64)

/* ---- tanh and logistic ---------------------------------------------------------------- */

/* tanh |x| = (1 - e) / (1 + e), e = e^{-2|x|} = s (1 + q) with s = 2^n, q = e^r - 1. Numerator
 * and denominator are each one fma of exact terms, fma(-s, q, 1 - s) and fma(s, q, 1 + s) (1 -+ s
 * is exact for n >= -23, where it matters), so each is within half an ulp of its value for the
 * computed q, and the numerator keeps q's relative accuracy where 1 - e^{-2|x|} cancels (n = 0:
 * it is -q): no small-x polynomial, no select. The -2 is folded in: from u = r / -2 =
 * |x| + n ln2 / 2, jl_expm1_poly_f32 gives h = q / -2, the magic number 2s, and the numerator and
 * denominator are fma(2s, h, 1 - s) and fma(-2s, h, 1 + s). With FMA, u is one step with ln2
 * rounded to float32: that moves e by a relative |n| 1.9e-9, |n| <= 58, and tanh by at most a
 * fifth of an ulp (e <= 1.5 2^n). |x| is clamped at 20 (tanh is 1 in float32 from 9.01); a NaN
 * passes every step; the sign of x (and of zero) is copied onto the result. Within 2 ulp of the
 * correctly rounded tanh (tests/test_jl_math.py). */
JL_INLINE float jl_tanh_f32(float x) {
  const float a = fabsf(x);
  const float ac = a > 20.0f ? 20.0f : a; /* NaN passes */
  const float k = jl_exp_magic_f32(ac, -2.0f, JL_EXP_MAGIC_F32(1));
  const float n = k - JL_EXP_MAGIC_F32(1);
  const uint32_t s2_bits = jl_bits_f32(k) << 23;
  const float s2 = jl_f32_from_bits(s2_bits);            /* 2s = 2^(n + 1) */
  const float s = jl_f32_from_bits(s2_bits - 0x800000u); /* s = 2^n: one exponent step down */
#ifdef JL_HAS_FMA
  const float u = JL_FMAF(n, 0x1.62e43p-2f, ac); /* ln2 / 2 in float32 */
#else
  const float u = JL_FMAF(n, -1.06097220e-4f, JL_FMAF(n, 0.3466796875f, ac));
#endif
  const float h = jl_expm1_poly_f32(u, -2.0f);
  /* 1 -+ s by an integer subtraction and a float add, not fma(s2, -+0.5, 1): the same single
   * rounding, off the multiply units (which this loop keeps busy) */
  const float num = JL_FMAF(s2, h, 1.0f - s);
  const float den = JL_FMAF(-s2, h, 1.0f + s);
  /* num / den >= 0 (or NaN): x's sign bit OR-ed in is copysign in one operation (gcc's copysignf
   * also clears the sign bit first: three on AVX2). Both changes give the same bits as before
   * for every float32 x (checked exhaustively); bench_jit.py's chain, AVX2: 2.5-4% less time. */
  return jl_f32_from_bits(jl_bits_f32(num / den) | (jl_bits_f32(x) & 0x80000000u));
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

/* logistic: the eager formula, x >= 0 ? 1 / (1 + e) : e / (1 + e) with e = e^{-|x|} (which
 * never overflows), as one division of a selected numerator, both terms scaled by 2^64: with
 * e = 2^n (1 + q), E = 2^64 e = fma(S, q, S) for S = 2^(n + 64), a normal float for every n in
 * [-159, 0] (-|x| is clamped at -110, where e^{-|x|} is 0 in float32) where 2^n is not, and
 * the result is (x >= 0 ? 2^64 : E) / (2^64 + E): the scaling changes no rounding, and a denormal
 * result is rounded once, by the division (below 2^-126 the denominator is 2^64). A NaN passes
 * every step. NB: a select of two computed values that feeds a division, gcc turns into two
 * masked divisions; with a constant arm it keeps one blend. */
JL_INLINE float jl_logistic_f32(float x) {
  const float t = jl_f32_from_bits(jl_bits_f32(x) | 0x80000000u); /* -|x| */
  const float tc = t < -110.0f ? -110.0f : t;                     /* NaN passes */
  float n, s; /* s = 2^(n + 64) */
  const float q = jl_exp_reduce_f32(tc, JL_EXP_MAGIC_F32(64), &n, &s);
  const float e = JL_FMAF(s, q, s);
  /* x >= 0 by its sign bit (-0.0 takes E, which is 2^64 there; a NaN gives NaN either way):
   * AVX2's blendv reads the sign bit itself, no comparison; the same bits as `x >= 0` */
  return ((int32_t)jl_bits_f32(x) < 0 ? e : 0x1p64f) / (0x1p64f + e);
}
JL_INLINE double jl_logistic_f64(double x) {
  const double e = jl_exp_f64(-fabs(x));
  const double d = 1.0 / (1.0 + e);
  return x >= 0 ? d : e * d;
}

/* ---- 16-bit floats ------------------------------------------------------------------------
 * float16 and bfloat16 are stored as their bits (uint16_t) and computed in float32
 * (backend/half.py). Conversions: 16 -> 32 bits is exact; 32 -> 16 bits rounds to nearest even,
 * bit for bit as NumPy's float16 and ml_dtypes' bfloat16 casts (NaN stays NaN with its sign and
 * top payload bits: tests/test_half.py checks every float16 and bfloat16 value and
 * millions of float32 bit patterns). float64 -> 16 bits rounds once: to float32 rounding to odd
 * (24 bits, more than 16 + 2, so the second rounding is the correct one), then to nearest even.
 * NB: bit operations, not F16C's conversions, which quiet a signaling NaN (NumPy does not). */
JL_INLINE float jl_f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1f) return jl_f32_from_bits(sign | 0x7f800000u | (m << 13));
  if (e) return jl_f32_from_bits(sign | ((e + 112) << 23) | (m << 13));
  const float v = (float)m * 0x1p-24f; /* a subnormal: exact */
  return sign ? -v : v;
}
JL_INLINE uint16_t jl_f32_to_f16(float x) {
  const uint32_t u = jl_bits_f32(x), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
  if (a > 0x7f800000u) { /* NaN: NumPy keeps the top payload bits (a signaling NaN stays so) */
    const uint32_t m = (a >> 13) & 0x3ffu;
    return (uint16_t)(sign | 0x7c00u | (m ? m : 1u));
  }
  if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds past 65504: inf */
  if (a < 0x38800000u) { /* below 2^-14: a subnormal, rounded by the float addition */
    const float v = jl_f32_from_bits(a) + 0.5f;         /* 2^-1 + m * 2^-24 */
    return (uint16_t)(sign | (jl_bits_f32(v) - 0x3f000000u));
  }
  const uint32_t r = a + 0xfffu + ((a >> 13) & 1u); /* round to nearest even at bit 13 */
  return (uint16_t)(sign | ((r - 0x38000000u) >> 13));
}
JL_INLINE float jl_bf16_to_f32(uint16_t h) { return jl_f32_from_bits((uint32_t)h << 16); }
JL_INLINE uint16_t jl_f32_to_bf16(float x) {
  const uint32_t u = jl_bits_f32(x);
  if (x != x) return (uint16_t)((u >> 16) | 0x40u); /* NaN: quiet, sign and top bits kept */
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
/* float64 -> float32 rounded to odd: truncate, then set the last bit if anything was lost. */
JL_INLINE float jl_f64_to_f32_odd(double x) {
  float f = (float)x;
  if ((double)f != x && x == x) {
    uint32_t b = jl_bits_f32(f);
    if (fabs((double)f) > fabs(x)) b -= 1; /* rounded away from zero: step back */
    f = jl_f32_from_bits(b | 1u);
  }
  return f;
}
JL_INLINE uint16_t jl_f64_to_f16(double x) { return jl_f32_to_f16(jl_f64_to_f32_odd(x)); }
JL_INLINE uint16_t jl_f64_to_bf16(double x) { return jl_f32_to_bf16(jl_f64_to_f32_odd(x)); }

/* nextafter in a 16-bit float's own steps (backend/half.py leaves it on the 16-bit operands). */
#define JL_NEXTAFTER_HALF(S)                                                          \
  JL_INLINE uint16_t jl_nextafter_##S(uint16_t x, uint16_t y) {                       \
    const float a = jl_##S##_to_f32(x), b = jl_##S##_to_f32(y);                      \
    if (a != a || b != b) return jl_f32_to_##S(a + b); /* a NaN */                    \
    if (a == b) return y;                                                             \
    if (a == 0) return (uint16_t)((b < 0 ? 0x8000u : 0u) | 1u); /* smallest subnormal */ \
    return (uint16_t)(((a < b) == (a > 0)) ? x + 1u : x - 1u); /* away from or to 0 */ \
  }
JL_NEXTAFTER_HALF(f16)
JL_NEXTAFTER_HALF(bf16)

#endif /* JL_MATH_H */
