/* jl_fft.h: the fast Fourier transforms of lax.fft (issue 21), included only by kernels that
 * call them (backend/rules_fft.py).
 *
 * One transform of length n: a Stockham autosort, decimation in frequency (no bit reversal: each
 * pass reads one buffer and writes the other in natural order), radix 4 and 2 specialized, other
 * small radices (3, 5, 7, ..., 13) by their DFT; a length with a prime factor above 13 goes
 * through Bluestein's chirp-z algorithm (three power-of-two transforms of length >= 2n - 1).
 * Twiddles w^k = exp(-2 pi i k / n) come from about 2 sqrt(n) sin/cos pairs, combined in double.
 * Multi-dimensional and batched transforms are one-dimensional ones along each axis, JL_FFT_VB
 * rows or columns at a time: gathered interleaved (element k of transform e at k VB + e), so
 * that every butterfly is a vector operation across the block, and scattered back. RFFT of an
 * even n is a complex transform of n / 2 (even samples real, odd imaginary) untangled; IRFFT
 * the reverse; an odd n goes through the complex transform of the row.
 * Measured here (2-core AMD EPYC Zen 4, AVX-512): a radix-8 pass and blocks of 16 lost.
 *
 * Memory: every buffer comes from the kernel's workspace (`jl_fft_scratch_size` elements), so
 * nothing here allocates. Needs jl_complex.h (jl_cmul_*).
 */
#ifndef JL_FFT_H
#define JL_FFT_H

#define JL_FFT_MAX_RADIX 13
/* The most fine twiddle factors jl_fft_twiddles keeps on the stack (16 KiB of doubles). */
#define JL_FFT_TW_FINE 1024
/* The transforms proper are compiled once per kernel, not inlined at every call: -O3 inlining
 * them into each axis loop multiplied the compile time. */
#define JL_FFT_FN static __attribute__((noinline, unused))

/* The radix of the next Stockham pass over a remaining length m > 1: 4, else 2, else m's
 * smallest odd factor. */
JL_INLINE int64_t jl_fft_radix(int64_t m) {
  if (m % 4 == 0) return 4;
  if (m % 2 == 0) return 2;
  int64_t f = 3;
  while (m % f) f += 2;
  return f;
}

/* The Bluestein length of n (0 when n's prime factors are all <= JL_FFT_MAX_RADIX). */
JL_INLINE int64_t jl_fft_bluestein_len(int64_t n) {
  int64_t m = n;
  for (int64_t p = 2; p <= JL_FFT_MAX_RADIX; p++)
    while (m % p == 0) m /= p;
  if (m == 1) return 0;
  int64_t M = 1;
  while (M < 2 * n - 1) M *= 2;
  return M;
}

/* Columns transformed together along a strided axis (a block of rows of JL_FFT_VB elements). */
#define JL_FFT_VB 8

/* Complex elements of scratch that a transform of length n needs. */
JL_INLINE int64_t jl_fft_scratch_size(int64_t n) {
  const int64_t M = jl_fft_bluestein_len(n);
  return 3 * n + (M ? n + 5 * M : 2 * JL_FFT_VB * n);
}

#define JL_FFT_FNS(T, R, S, F)                                                                \
  /* w[k] = exp(-2 pi i k / n) for k < cnt, k = a b + f: the fine factors exp(step f), f < b, by \
   * sin/cos once into a stack table (b <= JL_FFT_TW_FINE), the coarse ones exp(step a b) by    \
   * sin/cos once per a, their products in double: b + n / b sin/cos pairs, not n. */          \
  JL_FFT_FN void jl_fft_twiddles_upto_##S(T *w, int64_t n, int64_t cnt) {                  \
    int64_t b = 1;                                                                           \
    while (b * b < n && b < JL_FFT_TW_FINE) b++;                                             \
    const double step = -6.283185307179586476925286766559 / (double)n;                       \
    double fr[JL_FFT_TW_FINE], fi[JL_FFT_TW_FINE];                                           \
    for (int64_t f = 0; f < b; f++) {                                                        \
      fr[f] = cos(step * f);                                                                 \
      fi[f] = sin(step * f);                                                                 \
    }                                                                                        \
    for (int64_t f = 0; f < b && f < cnt; f++) w[f] = __builtin_complex((R)fr[f], (R)fi[f]);\
    for (int64_t a = 1; a * b < cnt; a++) {                                                  \
      const double c = cos(step * (a * b)), s = sin(step * (a * b));                         \
      const int64_t nf = cnt - a * b < b ? cnt - a * b : b;                                  \
      T *wa = w + a * b;                                                                     \
      for (int64_t f = 0; f < nf; f++)                                                       \
        wa[f] = __builtin_complex((R)(c * fr[f] - s * fi[f]), (R)(c * fi[f] + s * fr[f]));   \
    }                                                                                        \
  }                                                                                          \
  /* all n of them */                                                                       \
  JL_INLINE void jl_fft_twiddles_##S(T *w, int64_t n) { jl_fft_twiddles_upto_##S(w, n, n); }  \
  JL_INLINE T jl_fft_tw_##S(const T *w, int64_t k, int inv) {                               \
    return inv ? conj##F(w[k]) : w[k];                                                       \
  }                                                                                          \
  /* One pass: sub-length L = p m, stride s = n / L; x -> y. */                              \
  JL_INLINE void jl_fft_pass_##S(const T *restrict x, T *restrict y, const T *w, int64_t n,  \
                                 int64_t p, int64_t m, int64_t s, int inv) {                 \
    if (p == 2) {                                                                            \
      for (int64_t j = 0; j < m; j++) {                                                      \
        const T t1 = jl_fft_tw_##S(w, j * s, inv);                                           \
        for (int64_t q = 0; q < s; q++) {                                                    \
          const T a = x[q + s * j], b = x[q + s * (j + m)];                                  \
          y[q + s * (2 * j)] = a + b;                                                        \
          y[q + s * (2 * j + 1)] = jl_cmul_##S(a - b, t1);                                   \
        }                                                                                    \
      }                                                                                      \
      return;                                                                                \
    }                                                                                        \
    if (p == 4) {                                                                            \
      const R sg = inv ? (R)1 : (R)-1; /* the fourth root of unity used: sg * i */           \
      for (int64_t j = 0; j < m; j++) {                                                      \
        const T t1 = jl_fft_tw_##S(w, j * s, inv), t2 = jl_fft_tw_##S(w, 2 * j * s, inv);    \
        const T t3 = jl_fft_tw_##S(w, 3 * j * s, inv);                                       \
        for (int64_t q = 0; q < s; q++) {                                                    \
          const T a0 = x[q + s * j], a1 = x[q + s * (j + m)];                                \
          const T a2 = x[q + s * (j + 2 * m)], a3 = x[q + s * (j + 3 * m)];                  \
          const T s02 = a0 + a2, d02 = a0 - a2, s13 = a1 + a3, d13 = a1 - a3;                \
          /* d13 times sg * i: (-sg im, sg re) */                                            \
          const T r13 = __builtin_complex(-sg * cimag##F(d13), sg * creal##F(d13));          \
          y[q + s * (4 * j)] = s02 + s13;                                                    \
          y[q + s * (4 * j + 1)] = jl_cmul_##S(d02 + r13, t1);                               \
          y[q + s * (4 * j + 2)] = jl_cmul_##S(s02 - s13, t2);                               \
          y[q + s * (4 * j + 3)] = jl_cmul_##S(d02 - r13, t3);                               \
        }                                                                                    \
      }                                                                                      \
      return;                                                                                \
    }                                                                                        \
    const int64_t np_ = n / p; /* omega_p^k = w[k * n / p] */                                \
    for (int64_t j = 0; j < m; j++) {                                                        \
      for (int64_t q = 0; q < s; q++) {                                                      \
        T a[JL_FFT_MAX_RADIX];                                                               \
        for (int64_t r = 0; r < p; r++) a[r] = x[q + s * (j + r * m)];                       \
        for (int64_t u = 0; u < p; u++) {                                                    \
          T acc = a[0];                                                                      \
          for (int64_t r = 1; r < p; r++)                                                    \
            acc += jl_cmul_##S(a[r], jl_fft_tw_##S(w, ((r * u) % p) * np_, inv));            \
          y[q + s * (p * j + u)] = jl_cmul_##S(acc, jl_fft_tw_##S(w, (j * u * s) % n, inv)); \
        }                                                                                    \
      }                                                                                      \
    }                                                                                        \
  }                                                                                          \
  /* Unnormalized transform of x (length n, no prime factor above the max radix), in place; \
   * w: the twiddles of n, tmp: n elements. */                                               \
  JL_FFT_FN void jl_fft_stockham_##S(T *x, T *tmp, const T *w, int64_t n, int inv) {         \
    T *src = x, *dst = tmp;                                                                  \
    int64_t m = n, s = 1;                                                                    \
    while (m > 1) {                                                                          \
      int64_t p = jl_fft_radix(m);                                                           \
      m /= p;                                                                                \
      jl_fft_pass_##S(src, dst, w, n, p, m, s, inv);                                         \
      s *= p;                                                                                \
      T *t = src;                                                                            \
      src = dst;                                                                             \
      dst = t;                                                                               \
    }                                                                                        \
    if (src != x) memcpy(x, src, (size_t)n * sizeof(T));                                     \
  }                                                                                          \
  /* The pass on JL_FFT_VB interleaved transforms: element k of transform e at k * xv + e in  \
   * x, k * yv + e in y (xv, yv >= VB: a block of interleaved scratch, or VB columns of a      \
   * row-major array read and written in place of a gather); outputs times sc. */            \
  JL_INLINE void jl_fft_vpass_##S(const T *restrict x, int64_t xv, T *restrict y, int64_t yv, \
                                  const T *w, int64_t n, int64_t p, int64_t m, int64_t s,    \
                                  int inv, R sc) {                                           \
    enum { V = JL_FFT_VB };                                                                  \
    const int64_t np_ = n / p;                                                               \
    if (p == 4) { /* the twiddles of j hoisted out of the loop on q; sc folded into them */  \
      const R sg = inv ? (R)1 : (R)-1;                                                       \
      const int64_t sx = s * xv, sy = s * yv;                                                \
      for (int64_t j = 0; j < m; j++) {                                                      \
        const T t1 = jl_fft_tw_##S(w, j * s, inv) * sc;                                      \
        const T t2 = jl_fft_tw_##S(w, 2 * j * s, inv) * sc;                                  \
        const T t3 = jl_fft_tw_##S(w, 3 * j * s, inv) * sc;                                  \
        const T *xj = x + j * sx;                                                            \
        T *yj = y + 4 * j * sy;                                                              \
        for (int64_t q = 0; q < s; q++) {                                                    \
          const T *a0 = xj + q * xv, *a1 = a0 + m * sx, *a2 = a1 + m * sx, *a3 = a2 + m * sx; \
          T *y0 = yj + q * yv;                                                               \
          for (int e = 0; e < V; e++) {                                                      \
            const T s02 = a0[e] + a2[e], d02 = a0[e] - a2[e];                                \
            const T s13 = a1[e] + a3[e], d13 = a1[e] - a3[e];                                \
            const T r13 = __builtin_complex(-sg * cimag##F(d13), sg * creal##F(d13));        \
            y0[e] = (s02 + s13) * sc;                                                        \
            y0[sy + e] = jl_cmul_##S(d02 + r13, t1);                                         \
            y0[2 * sy + e] = jl_cmul_##S(s02 - s13, t2);                                     \
            y0[3 * sy + e] = jl_cmul_##S(d02 - r13, t3);                                     \
          }                                                                                  \
        }                                                                                    \
      }                                                                                      \
      return;                                                                                \
    }                                                                                        \
    if (p == 2) {                                                                            \
      for (int64_t j = 0; j < m; j++) {                                                      \
        const T t1 = jl_fft_tw_##S(w, j * s, inv) * sc;                                      \
        for (int64_t q = 0; q < s; q++) {                                                    \
          const T *a = x + (q + s * j) * xv, *b = x + (q + s * (j + m)) * xv;                \
          T *y0 = y + (q + s * (2 * j)) * yv, *y1 = y + (q + s * (2 * j + 1)) * yv;          \
          for (int e = 0; e < V; e++) {                                                      \
            y0[e] = (a[e] + b[e]) * sc;                                                      \
            y1[e] = jl_cmul_##S(a[e] - b[e], t1);                                            \
          }                                                                                  \
        }                                                                                    \
      }                                                                                      \
      return;                                                                                \
    }                                                                                        \
    for (int64_t j = 0; j < m; j++) {                                                        \
      for (int64_t q = 0; q < s; q++) {                                                      \
        for (int64_t u = 0; u < p; u++) {                                                    \
          T *yu = y + (q + s * (p * j + u)) * yv;                                            \
          const T tu = jl_fft_tw_##S(w, (j * u * s) % n, inv) * sc;                          \
          for (int e = 0; e < V; e++) {                                                      \
            T acc = x[(q + s * j) * xv + e];                                                 \
            for (int64_t r = 1; r < p; r++)                                                  \
              acc += jl_cmul_##S(x[(q + s * (j + r * m)) * xv + e],                          \
                                 jl_fft_tw_##S(w, ((r * u) % p) * np_, inv));                \
            yu[e] = jl_cmul_##S(acc, tu);                                                    \
          }                                                                                  \
        }                                                                                    \
      }                                                                                      \
    }                                                                                        \
  }                                                                                          \
  /* jl_fft_stockham on JL_FFT_VB interleaved transforms (x, tmp: n * VB elements); the      \
   * result is left in x or in tmp (not copied back): returns which. */                      \
  JL_FFT_FN T *jl_fft_vstockham_##S(T *x, T *tmp, const T *w, int64_t n, int inv) {          \
    enum { V = JL_FFT_VB };                                                                  \
    T *src = x, *dst = tmp;                                                                  \
    int64_t m = n, s = 1;                                                                    \
    while (m > 1) {                                                                          \
      int64_t p = jl_fft_radix(m);                                                           \
      m /= p;                                                                                \
      jl_fft_vpass_##S(src, V, dst, V, w, n, p, m, s, inv, (R)1);                            \
      s *= p;                                                                                \
      T *t = src;                                                                            \
      src = dst;                                                                             \
      dst = t;                                                                               \
    }                                                                                        \
    return src;                                                                              \
  }                                                                                          \
  /* The transforms of JL_FFT_VB adjacent columns of data (element k of column e at          \
   * data[k * ld + e]), in place, outputs times sc: the first pass reads data, the last       \
   * writes it, the others ping-pong between b0 and b1 (n * VB elements each), so no gather  \
   * or scatter copy. A single pass goes through b0. */                                      \
  JL_FFT_FN void jl_fft_vcols_##S(T *data, int64_t ld, T *b0, T *b1, const T *w, int64_t n,  \
                                  int inv, R sc) {                                           \
    enum { V = JL_FFT_VB };                                                                  \
    int64_t passes = 0;                                                                      \
    for (int64_t m = n; m > 1; m /= jl_fft_radix(m)) passes++;                               \
    if (passes == 0) {                                                                       \
      for (int e = 0; e < V; e++) data[e] = data[e] * sc;                                    \
      return;                                                                                \
    }                                                                                        \
    const T *src = data;                                                                     \
    int64_t sv = ld, m = n, s = 1, i = 0;                                                    \
    T *bufs[2] = {b0, b1};                                                                   \
    while (m > 1) {                                                                          \
      int64_t p = jl_fft_radix(m);                                                           \
      m /= p;                                                                                \
      const int last = (m == 1) && passes > 1;                                               \
      T *dst = last ? data : bufs[i & 1];                                                    \
      jl_fft_vpass_##S(src, sv, dst, last ? ld : V, w, n, p, m, s, inv, m == 1 ? sc : (R)1); \
      s *= p;                                                                                \
      src = dst;                                                                             \
      sv = last ? ld : V;                                                                    \
      i++;                                                                                   \
    }                                                                                        \
    if (passes == 1)                                                                         \
      for (int64_t k = 0; k < n; k++)                                                        \
        for (int e = 0; e < V; e++) data[k * ld + e] = b0[k * V + e];                        \
  }                                                                                          \
  /* Fills the plan of length n at the start of scratch (twiddles; Bluestein's chirp, the     \
   * twiddles of M and the transformed chirp filter of both directions). */                 \
  JL_FFT_FN void jl_fft_prepare_##S(T *scratch, int64_t n) {                                 \
    const int64_t M = jl_fft_bluestein_len(n);                                               \
    jl_fft_twiddles_##S(scratch, n);                                                         \
    if (!M) return;                                                                          \
    T *chirp = scratch + 3 * n, *wM = chirp + n, *bf = wM + M, *bi = bf + M, *tmp = bi + M;  \
    for (int64_t k = 0; k < n; k++) { /* exp(-pi i k^2 / n), k^2 reduced mod 2n exactly */  \
      const int64_t k2 = (int64_t)(((unsigned __int128)k * (unsigned __int128)k) % (2 * n)); \
      const double t = -3.14159265358979323846264338327950 * (double)k2 / (double)n;         \
      chirp[k] = __builtin_complex((R)cos(t), (R)sin(t));                                    \
    }                                                                                        \
    jl_fft_twiddles_##S(wM, M);                                                              \
    for (int dir = 0; dir < 2; dir++) {                                                      \
      T *b = dir ? bi : bf;                                                                  \
      for (int64_t k = 0; k < M; k++) b[k] = 0;                                              \
      for (int64_t k = 0; k < n; k++) {                                                      \
        const T c = dir ? chirp[k] : conj##F(chirp[k]); /* conj of the direction's chirp */  \
        b[k] = c;                                                                            \
        if (k) b[M - k] = c;                                                                 \
      }                                                                                      \
      jl_fft_stockham_##S(b, tmp, wM, M, 0);                                                 \
    }                                                                                        \
  }                                                                                          \
  /* The transform of the contiguous x (length n), in place; inverse ones scaled by 1/n.      \
   * scratch: prepared by jl_fft_prepare for n. */                                           \
  JL_FFT_FN void jl_fft_run_##S(T *x, int64_t n, int inv, T *scratch) {                      \
    const int64_t M = jl_fft_bluestein_len(n);                                               \
    if (!M) {                                                                                \
      jl_fft_stockham_##S(x, scratch + n, scratch, n, inv);                                  \
    } else {                                                                                 \
      T *chirp = scratch + 3 * n, *wM = chirp + n, *bf = wM + M, *bi = bf + M, *tmp = bi + M; \
      T *a = tmp + M;                                                                        \
      for (int64_t k = 0; k < n; k++)                                                        \
        a[k] = jl_cmul_##S(x[k], inv ? conj##F(chirp[k]) : chirp[k]);                        \
      for (int64_t k = n; k < M; k++) a[k] = 0;                                              \
      jl_fft_stockham_##S(a, tmp, wM, M, 0);                                                 \
      const T *b = inv ? bi : bf;                                                            \
      for (int64_t k = 0; k < M; k++) a[k] = jl_cmul_##S(a[k], b[k]);                        \
      jl_fft_stockham_##S(a, tmp, wM, M, 1);                                                 \
      const R scale = (R)1 / (R)M;                                                           \
      for (int64_t k = 0; k < n; k++)                                                        \
        x[k] = jl_cmul_##S(a[k] * scale, inv ? conj##F(chirp[k]) : chirp[k]);                \
    }                                                                                        \
    if (inv) {                                                                               \
      const R scale = (R)1 / (R)n;                                                           \
      for (int64_t k = 0; k < n; k++) x[k] = x[k] * scale;                                   \
    }                                                                                        \
  }                                                                                          \
  /* The transforms along the middle axis of data[outer][n][inner], in place. */             \
  JL_FFT_FN void jl_fft_axis_##S(T *data, int64_t outer, int64_t n, int64_t inner, int inv,  \
                                 T *scratch) {                                               \
    if (n <= 1 && !inv) return;                                                              \
    jl_fft_prepare_##S(scratch, n);                                                          \
    T *row = scratch + 2 * n;                                                                \
    const int vec = !jl_fft_bluestein_len(n);                                                \
    T *blk = scratch + 3 * n, *btmp = blk + JL_FFT_VB * n;                                   \
    const R scale = inv ? (R)1 / (R)n : (R)1;                                                \
    int64_t o = 0;                                                                           \
    if (inner == 1 && vec) /* blocks of JL_FFT_VB contiguous rows, transformed together */   \
      for (; o + JL_FFT_VB <= outer; o += JL_FFT_VB) {                                       \
        T *base = data + o * n;                                                              \
        for (int e = 0; e < JL_FFT_VB; e++)                                                  \
          for (int64_t k = 0; k < n; k++) blk[k * JL_FFT_VB + e] = base[e * n + k];          \
        const T *res = jl_fft_vstockham_##S(blk, btmp, scratch, n, inv);                     \
        for (int e = 0; e < JL_FFT_VB; e++)                                                  \
          for (int64_t k = 0; k < n; k++) base[e * n + k] = res[k * JL_FFT_VB + e] * scale;  \
      }                                                                                      \
    for (; o < outer; o++) {                                                                 \
      T *base = data + o * n * inner;                                                        \
      if (inner == 1) {                                                                      \
        jl_fft_run_##S(base, n, inv, scratch);                                               \
        continue;                                                                            \
      }                                                                                      \
      int64_t i = 0;                                                                         \
      if (vec) /* blocks of JL_FFT_VB columns, transformed together */                       \
        for (; i + JL_FFT_VB <= inner; i += JL_FFT_VB) {                                     \
          jl_fft_vcols_##S(base + i, inner, blk, btmp, scratch, n, inv, scale);              \
        }                                                                                    \
      for (; i < inner; i++) {                                                               \
        for (int64_t k = 0; k < n; k++) row[k] = base[k * inner + i];                        \
        jl_fft_run_##S(row, n, inv, scratch);                                                \
        for (int64_t k = 0; k < n; k++) base[k * inner + i] = row[k];                        \
      }                                                                                      \
    }                                                                                        \
  }                                                                                          \
  /* w[k] = exp(-2 pi i k / n) for k <= n / 2 (the real transforms' post-processing) */       \
  JL_INLINE void jl_fft_half_twiddles_##S(T *w, int64_t n) {                                 \
    jl_fft_twiddles_upto_##S(w, n, n / 2 + 1); /* about 2 sqrt(n) sin/cos pairs, not n / 2 */ \
  }                                                                                          \
  /* RFFT: x[rows][n] real -> y[rows][n / 2 + 1]; `full`: 2 n + 2 elements of scratch. An even n \
   * packs the row into n / 2 complex values (even samples real, odd imaginary), transforms  \
   * that and untangles the halves; an odd n transforms the row as complex. */               \
  JL_FFT_FN void jl_rfft_rows_##S(const R *x, T *y, int64_t rows, int64_t n, T *full,         \
                                  T *scratch) {                                              \
    const int64_t h = n / 2 + 1;                                                             \
    if (n % 2 || n < 4) {                                                                    \
      jl_fft_prepare_##S(scratch, n);                                                        \
      for (int64_t r = 0; r < rows; r++) {                                                   \
        for (int64_t k = 0; k < n; k++) full[k] = x[r * n + k];                              \
        jl_fft_run_##S(full, n, 0, scratch);                                                 \
        memcpy(y + r * h, full, (size_t)h * sizeof(T));                                      \
      }                                                                                      \
      return;                                                                                \
    }                                                                                        \
    const int64_t m = n / 2;                                                                 \
    T *wn = full + n;                                                                        \
    jl_fft_prepare_##S(scratch, m);                                                          \
    jl_fft_half_twiddles_##S(wn, n);                                                         \
    int64_t r = 0;                                                                           \
    if (!jl_fft_bluestein_len(m)) { /* blocks of JL_FFT_VB rows, transformed together */     \
      enum { V = JL_FFT_VB };                                                                \
      T *blk = scratch + 3 * m, *btmp = blk + V * m;                                         \
      for (; r + V <= rows; r += V) {                                                        \
        for (int e = 0; e < V; e++) {                                                        \
          const R *xr = x + (r + e) * n;                                                     \
          for (int64_t j = 0; j < m; j++)                                                    \
            blk[j * V + e] = __builtin_complex(xr[2 * j], xr[2 * j + 1]);                    \
        }                                                                                    \
        const T *res = jl_fft_vstockham_##S(blk, btmp, scratch, m, 0);                       \
        for (int e = 0; e < V; e++) { /* row e made contiguous, then a vectorizable loop */  \
          T *yr = y + (r + e) * h;                                                           \
          for (int64_t k = 0; k < m; k++) full[k] = res[k * V + e];                          \
          full[m] = full[0];                                                                 \
          for (int64_t k = 0; k <= m; k++) {                                                 \
            const T zk = full[k], zc = conj##F(full[m - k]);                                 \
            const T ev = (zk + zc) * (R)0.5, o = (zk - zc) * (R)0.5;                         \
            const T odd = __builtin_complex(cimag##F(o), -creal##F(o));                      \
            yr[k] = ev + jl_cmul_##S(wn[k], odd);                                            \
          }                                                                                  \
        }                                                                                    \
      }                                                                                      \
    }                                                                                        \
    for (; r < rows; r++) {                                                                  \
      const R *xr = x + r * n;                                                               \
      T *yr = y + r * h;                                                                     \
      for (int64_t j = 0; j < m; j++) full[j] = __builtin_complex(xr[2 * j], xr[2 * j + 1]); \
      jl_fft_run_##S(full, m, 0, scratch);                                                   \
      for (int64_t k = 0; k <= m; k++) {                                                     \
        const T zk = full[k == m ? 0 : k], zc = conj##F(full[k == 0 ? 0 : m - k]);           \
        const T e = (zk + zc) * (R)0.5, o = (zk - zc) * (R)0.5; /* o = i * odd part */       \
        const T odd = __builtin_complex(cimag##F(o), -creal##F(o));                          \
        yr[k] = e + jl_cmul_##S(wn[k], odd);                                                 \
      }                                                                                      \
    }                                                                                        \
  }                                                                                          \
  /* IRFFT: x[rows][n / 2 + 1] -> y[rows][n] real (as NumPy, the imaginary parts of the zero \
   * and Nyquist terms are ignored); even n through a transform of length n / 2. */          \
  JL_FFT_FN void jl_irfft_rows_##S(const T *x, R *y, int64_t rows, int64_t n, T *full,        \
                                   T *scratch) {                                             \
    const int64_t h = n / 2 + 1;                                                             \
    if (n % 2 || n < 4) {                                                                    \
      jl_fft_prepare_##S(scratch, n);                                                        \
      for (int64_t r = 0; r < rows; r++) {                                                   \
        const T *xr = x + r * h;                                                             \
        for (int64_t k = 0; k < h && k < n; k++) full[k] = xr[k];                            \
        for (int64_t k = h; k < n; k++) full[k] = conj##F(xr[n - k]);                        \
        full[0] = creal##F(full[0]);                                                         \
        if (n % 2 == 0) full[n / 2] = creal##F(full[n / 2]);                                 \
        jl_fft_run_##S(full, n, 1, scratch);                                                 \
        for (int64_t k = 0; k < n; k++) y[r * n + k] = creal##F(full[k]);                    \
      }                                                                                      \
      return;                                                                                \
    }                                                                                        \
    const int64_t m = n / 2;                                                                 \
    T *wn = full + n, *xs = wn + m + 1; /* full: 2 n + 2 elements */                         \
    jl_fft_prepare_##S(scratch, m);                                                          \
    jl_fft_half_twiddles_##S(wn, n);                                                         \
    int64_t r = 0;                                                                           \
    if (!jl_fft_bluestein_len(m)) { /* blocks of JL_FFT_VB rows, transformed together */     \
      enum { V = JL_FFT_VB };                                                                \
      T *blk = scratch + 3 * m, *btmp = blk + V * m;                                         \
      const R scale = (R)1 / (R)m;                                                           \
      for (; r + V <= rows; r += V) {                                                        \
        for (int e = 0; e < V; e++) {                                                        \
          const T *xr = x + (r + e) * h;                                                     \
          for (int64_t k = 0; k <= m; k++) xs[k] = xr[k];                                    \
          xs[0] = creal##F(xs[0]);                                                           \
          xs[m] = creal##F(xs[m]);                                                           \
          for (int64_t k = 0; k < m; k++) {                                                  \
            const T a = xs[k], b = conj##F(xs[m - k]);                                       \
            const T ev = (a + b) * (R)0.5, d = (a - b) * (R)0.5;                             \
            const T o = jl_cmul_##S(d, conj##F(wn[k]));                                      \
            blk[k * V + e] = ev + __builtin_complex(-cimag##F(o), creal##F(o));              \
          }                                                                                  \
        }                                                                                    \
        const T *res = jl_fft_vstockham_##S(blk, btmp, scratch, m, 1);                       \
        for (int e = 0; e < V; e++) {                                                        \
          R *yr = y + (r + e) * n;                                                           \
          for (int64_t j = 0; j < m; j++) {                                                  \
            const T v = res[j * V + e] * scale;                                              \
            yr[2 * j] = creal##F(v);                                                         \
            yr[2 * j + 1] = cimag##F(v);                                                     \
          }                                                                                  \
        }                                                                                    \
      }                                                                                      \
    }                                                                                        \
    for (; r < rows; r++) {                                                                  \
      const T *xr = x + r * h;                                                               \
      for (int64_t k = 0; k <= m; k++) xs[k] = xr[k];                                        \
      xs[0] = creal##F(xs[0]);                                                               \
      xs[m] = creal##F(xs[m]);                                                               \
      for (int64_t k = 0; k < m; k++) {                                                      \
        const T a = xs[k], b = conj##F(xs[m - k]);                                           \
        const T e = (a + b) * (R)0.5, d = (a - b) * (R)0.5;                                  \
        const T o = jl_cmul_##S(d, conj##F(wn[k]));                                          \
        full[k] = e + __builtin_complex(-cimag##F(o), creal##F(o)); /* e + i o */            \
      }                                                                                      \
      jl_fft_run_##S(full, m, 1, scratch);                                                   \
      R *yr = y + r * n;                                                                     \
      for (int64_t j = 0; j < m; j++) {                                                      \
        yr[2 * j] = creal##F(full[j]);                                                       \
        yr[2 * j + 1] = cimag##F(full[j]);                                                   \
      }                                                                                      \
    }                                                                                        \
  }

JL_FFT_FNS(float _Complex, float, c64, f)
JL_FFT_FNS(double _Complex, double, c128, )

#endif /* JL_FFT_H */
