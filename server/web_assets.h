/* The dashboard's files, embedded at build time from server/web/ by
 * server/embed.py, so fleetcastd serves them with nothing else installed. */
#ifndef FC_WEB_ASSETS_H
#define FC_WEB_ASSETS_H

#include <stddef.h>

struct fc_web_asset {
    const char *path; /* "/index.html" */
    const char *type; /* MIME type */
    const unsigned char *data;
    size_t len;
};

extern const struct fc_web_asset fc_web_assets[]; /* ends with path NULL */

#endif
