/* request.h: parsing one `calcspec stream` request line. */
#ifndef CALCSPEC_CLI_REQUEST_H
#define CALCSPEC_CLI_REQUEST_H

#include "cli.h"

#include <jansson.h>

#define CLI_REQUEST_MAX_POINTS 1000000 /* per array; a detector has a few
                                          thousand */

/* A parsed request: "x" and "y" as double arrays (the hot path), every
 * other member as a jansson value in obj.  Fields are private to
 * request.c except obj. */
typedef struct cli_request cli_request;
struct cli_request {
  json_t *obj;         /* the request's members other than x and y */
  double *v[2];        /* x, y */
  size_t n[2], cap[2];
  int seen[2];
  int depth;           /* 0 before the request object, 1 inside it */
  int target;          /* -1, or 0/1 while inside the x/y array */
  int done;            /* the request object has closed */
  char key[128];       /* current member of the request object */
  json_t *stack[32];   /* containers of a nested member being built */
  char *skey[32];      /* pending key in each object container */
  int sp;
  char err[200];
};

/* Parse one line of len bytes (need not be NUL-terminated).  0 ok; -1 with
 * the reason in msg: invalid JSON names the byte offset ("invalid JSON at
 * byte 17: ..."; a line that stops inside a value says it is truncated).
 * Always release with cli_request_free. */
int cli_request_parse(cli_request *r, const char *text, size_t len, char *msg,
                      size_t cap);
void cli_request_free(cli_request *r);
/* 1 (default): well-formed plain requests take a direct scan; 0: every
 * request goes through yajl (tests compare the two). */
extern int cli_request_fast;
/* 1 when v is a JSON string that holds no NUL (\u0000): one that does
 * would reach fopen or a name lookup cut short ("a.spe\u0000x" opened
 * a.spe). */
int cli_json_cstring(const json_t *v);
/* The spectrum of an arrays request ("x", "y", "axis", "laser_nm"); the
 * caller owns *out.  0 ok; -1 with err->msg set. */
int cli_request_spectrum(const cli_request *rq, cs_spectrum **out,
                         cs_error *err);

#endif
