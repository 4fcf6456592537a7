/* tools/soak/sysres.c - the process's own resident memory, open file descriptors and threads,
 * from /proc/self. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "soak.h"

int soak_res_sample(struct soak_res *out)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "re");
    if (!f)
        return -1;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2)
        return -1;
    out->rss = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);

    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    unsigned fds = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            fds++;
    closedir(d);
    out->fds = fds - 1; /* the directory being read */

    char line[256];
    out->threads = 0;
    f = fopen("/proc/self/status", "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "Threads:", 8) == 0)
            sscanf(line + 8, "%u", &out->threads);
    fclose(f);
    return out->threads ? 0 : -1;
}
