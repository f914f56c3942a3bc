/* fuzz_labels.c: the training labels file (`calcspec train --labels F`,
 * src/cli/labels.c) read through its real entry point, cli_load_labelled,
 * with one small spectrum file, "fuzz-labels.csv" in $TMPDIR, that label
 * rows may name.  Messages go to stderr (run with -close_fd_mask=2). */
#include "fuzz.h"
#include "cli.h"

static char spectrum[4096];

static void make_spectrum(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(spectrum, sizeof spectrum, "%s/fuzz-labels.csv",
           tmp && *tmp ? tmp : "/tmp");
  FILE *f = fopen(spectrum, "w");
  if (!f)
    abort();
  for (int i = 0; i < 16; i++)
    fprintf(f, "%d,%d\n", 400 + 10 * i, 100 + i * (i % 3));
  fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!spectrum[0])
    make_spectrum();
  const char *labels = fuzz_file(0, data, size);
  char *args[] = {spectrum};
  cs_dataset *ds = NULL;
  char **classes = NULL;
  int nbad = 0;
  if (cli_load_labelled(args, 1, labels, &ds, &classes, &nbad) == 0) {
    for (size_t i = 0; i < cs_dataset_count(ds); i++)
      if (!classes[i] || !classes[i][0])
        abort();
    cli_labels_free(classes, cs_dataset_count(ds));
    cs_dataset_free(ds);
  }
  return 0;
}
