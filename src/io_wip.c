/* io_wip.c: WITec Project (.wip, .wid) files are recognised and refused.
 *
 * A .wip starts with the tag "WIT_PRCT" or "WIT_PR06" and holds a tree of
 * named, typed tags (WITec Project 2.x-5.x); the spectra sit in TDGraph
 * objects whose x calibration is spread over separate TDSpectralTransformation
 * objects.  Decoding that tree is out of scope: calcspec names the format
 * so the user can export SPC or text from WITec Project (both are read).
 */
#include "internal.h"

#include <string.h>

static int sniff(const unsigned char *h, size_t n) {
  return n >= 8 && (memcmp(h, "WIT_PRCT", 8) == 0 ||
                    memcmp(h, "WIT_PR06", 8) == 0 ||
                    memcmp(h, "WIT_PR", 6) == 0)
             ? 80
             : 0;
}

const csi_reader csi_reader_witec_wip = {
    "witec_wip", "",
    "WITec Project .wip (a WITec tag tree; export SPC or text from WITec "
    "Project)",
    sniff, NULL, NULL};
