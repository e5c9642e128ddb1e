/*
 * hcinit.c - calls hc_init from C with the settings in a file and prints the outcome:
 *   "code <n>\n<message>\n" on failure, "code 0\n<hc_listcon JSON>\n" on success.
 * The Python tests run the same configuration cases through this program and through the
 * ctypes binding, so every case is checked from both hosts.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hc.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: hcinit SETTINGS_FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    size_t cap = 1 << 16, len = 0, n;
    char *text = malloc(cap + 1);
    while ((n = fread(text + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap)
            text = realloc(text, (cap *= 2) + 1);
    }
    fclose(f);
    text[len] = '\0';
    char err[HC_ERROR_SIZE];
    hc_code code = hc_init(text, err, sizeof err);
    free(text);
    printf("code %d\n", (int)code);
    if (code != HC_OK) {
        printf("%s\n", err);
        return 0;
    }
    char *json = NULL;
    code = hc_listcon(&json, NULL);
    printf("%s\n", code == HC_OK ? json : hc_strerror(code));
    hc_free(json);
    return 0;
}
