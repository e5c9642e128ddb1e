/*
 * multi_runtime_test.c - one Go runtime per process (golang/go#18976): with another Go
 * c-shared library loaded, hc_init must refuse with HC_E_MULTI_RUNTIME and name it, and
 * must not have started anything that fails later.
 *   multi_runtime_test /path/to/other-go-library.so
 */
#include <dlfcn.h>
#include <string.h>

#include "check.h"
#include "hc.h"

int main(int argc, char **argv)
{
    char err[HC_ERROR_SIZE] = "";
    void *other = dlopen(argc > 1 ? argv[1] : "", RTLD_NOW | RTLD_LOCAL);
    CHECK(other != NULL, "load the other Go library: %s", dlerror());
    hc_code c = hc_init("", err, sizeof err);
    CHECK(c == HC_E_MULTI_RUNTIME, "hc_init: %s (%s)", hc_strerror(c), err);
    CHECK(strstr(err, "otherruntime") != NULL, "the message names the other library: %s", err);
    char *json = NULL;
    CHECK(hc_listcon(&json, NULL) == HC_E_NOT_INIT, "nothing was initialised");
    return check_done("multi_runtime_test");
}
