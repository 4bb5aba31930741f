/* Small text files read whole (textfile.h). */
#include "common/textfile.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/error.h"

int fc_read_text(const char *path, size_t max, char **out)
{
    FILE *f = fopen(path, "r");
    char *text = f ? malloc(max + 1) : NULL;
    size_t n = 0;
    int rc = !f ? FC_EIO : !text ? FC_ENOMEM : 0;

    /* One byte past max tells a file that is too long. */
    if (!rc && ((n = fread(text, 1, max + 1, f)) > max || ferror(f)))
        rc = n > max ? FC_EFORMAT : FC_EIO;
    if (f)
        fclose(f);
    if (rc) {
        free(text);
        return rc;
    }
    text[n] = 0;
    *out = text;
    return 0;
}
