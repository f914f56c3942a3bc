/* cmd_formats.c: `calcspec formats`: the reader/writer table. */
#include "cli.h"

#include <getopt.h>
#include <string.h>

int cmd_formats(int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'h') {
      printf("usage: calcspec formats\n\n"
             "Lists every file format: name (for --format/--to), read/write "
             "support,\nfile extensions used when content does not decide, "
             "and a description.\n");
      return CLI_OK;
    }
    return cli_bad_option("formats", "h", opts, argc, argv);
  }
  if (optind < argc)
    return cli_usage_error("formats", "takes no arguments");
  printf("name\tread\twrite\textensions\tdescription\n");
  for (size_t i = 0; i < cs_format_count(); i++) {
    cs_format_info fi;
    cs_format_get(i, &fi);
    printf("%s\t%s\t%s\t%s\t%s\n", fi.name, fi.can_read ? "yes" : "no",
           fi.can_write ? "yes" : "no", fi.extensions, fi.description);
  }
  return CLI_OK;
}
