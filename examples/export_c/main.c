/* main.c: classifies the digits test images with the MLP exported by examples/export_c.py.
 *
 *   main images.bin [logits.bin]
 *
 * images.bin: int32 n, int32 d, then n x d float32 pixels (row-major), then n int32 labels.
 * Prints the accuracy; writes the n x 10 float32 logits to logits.bin if given. One image per
 * call: the exported function takes a batch of 1 (digits.h), its weights are compiled in.
 * No Python, NumPy or BLAS anywhere: plain C99 and libm.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "digits.h"

/* The workspace: static here (one thread); +1 because its size may be 0. */
static char workspace[DIGITS_WORKSPACE_SIZE + 1];

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s images.bin [logits.bin]\n", argv[0]);
    return 2;
  }
  FILE *in = fopen(argv[1], "rb");
  int32_t header[2];
  if (!in || fread(header, sizeof header[0], 2, in) != 2) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  const int32_t n = header[0], d = header[1];
  if (n <= 0 || d != DIGITS_x_SIZE) {
    fprintf(stderr, "%s: %d images of %d pixels; the model takes %d\n", argv[1], n, d,
            DIGITS_x_SIZE);
    return 1;
  }
  float *x = malloc((size_t)n * (size_t)d * sizeof *x);
  int32_t *labels = malloc((size_t)n * sizeof *labels);
  if (!x || !labels || fread(x, sizeof *x, (size_t)n * (size_t)d, in) != (size_t)n * (size_t)d ||
      fread(labels, sizeof *labels, (size_t)n, in) != (size_t)n) {
    fprintf(stderr, "%s is truncated\n", argv[1]);
    return 1;
  }
  fclose(in);
  FILE *out = argc == 3 ? fopen(argv[2], "wb") : NULL;

  int correct = 0;
  for (int32_t i = 0; i < n; i++) {
    float logits[DIGITS_out_SIZE];
    const int rc = digits(x + (size_t)i * (size_t)d, logits, workspace);
    if (rc != DIGITS_OK) {
      fprintf(stderr, "digits() returned %d\n", rc);
      return 1;
    }
    int best = 0;
    for (int k = 1; k < DIGITS_out_SIZE; k++)
      if (logits[k] > logits[best]) best = k;
    correct += best == labels[i];
    if (out) fwrite(logits, sizeof logits[0], DIGITS_out_SIZE, out);
  }
  if (out) fclose(out);
  printf("C program: test accuracy %.2f%% (%d/%d)\n", 100.0 * correct / n, correct, n);
  free(x);
  free(labels);
  return 0;
}
