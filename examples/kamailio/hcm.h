/*
 * hcm.h - what the http_client module's files share.
 *
 * The module is Kamailio 5.6.3's http_client script interface on top of libhc. A Go
 * runtime does not survive fork(), and Kamailio's main process forks every worker, so
 * the module never links libhc: the main process only records the modparams
 * (hcm_settings.c), checks them in a short-lived child at mod_init (hcm_lib.c), and the
 * workers load libhc after their fork, through bindings/c/hc_dl.h.
 */
#ifndef HCM_H
#define HCM_H

#include <stddef.h>

#include "hc_dl.h"

/* ---- hcm_settings.c: the modparams, in script order, as hc_init settings ----------- */

/* hcm_settings_add_str/_int record one modparam. Returns 0, or -1 (logged) when the value
 * cannot be carried in a settings line (a line break, or blanks at either end). */
int hcm_settings_add_str(const char *name, const char *value, size_t len);
int hcm_settings_add_int(const char *name, int value);

/* hcm_settings_text is the hc_init text: Kamailio's default user agent first, then every
 * recorded modparam. Never NULL. */
const char *hcm_settings_text(void);

/* hcm_settings_describe rewrites hc_init's "line N: reason" message so that it names the
 * modparam of line N as the script wrote it. */
void hcm_settings_describe(const char *msg, char *out, size_t out_len);

/* ---- hcm_lib.c: libhc in this process ---------------------------------------------- */

/* hcm_set_library_path sets the libhc.so to load (modparam "libhc"); the default is the
 * libhc.so in this module's directory, then the dynamic linker's search path. */
int hcm_set_library_path(const char *path);

/* hcm_validate runs in mod_init: a child process loads libhc, runs hc_init on the
 * settings and reports through a pipe. Returns 0 and the number of httpcon connections
 * in *connections, or -1 after logging why Kamailio must not start. The calling process
 * never loads libhc. */
int hcm_validate(int *connections);

/* hcm_load loads libhc and runs hc_init in the calling process (a worker, after its
 * fork). Returns 0 or -1 (logged). Idempotent. */
int hcm_load(void);

/* hcm_api returns the loaded function table, loading it on first use in a process that
 * is neither the main process nor a child of a process that loaded it; NULL (logged
 * once per process) when libhc cannot be used here. */
const hc_api *hcm_api(void);

/* hcm_remember_main records the calling process as Kamailio's main process, which must
 * never load libhc because it forks the workers. */
void hcm_remember_main(void);

/* hcm_sync_counters adds what libhc counted since the last call (connok, connfail) to
 * Kamailio's counters. */
void hcm_sync_counters(void);

/* hcm_counters_register registers httpclient:connections, connok and connfail (mod_init). */
int hcm_counters_register(int connections);

/* ---- hcm_rpc.c: httpclient.listcon ------------------------------------------------- */

/* hcm_rpc_register registers the RPC commands (mod_init). */
int hcm_rpc_register(void);

#endif /* HCM_H */
