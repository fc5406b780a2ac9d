/*
 * mmlab's kernel driver: runs an op script on the real kernel, inside a window of its own address space, and
 * prints what the kernel answered. `mmlab oracle` compiles it with `cc -O2` and feeds it the script already
 * lowered to numbers (dev.mmlab.bench.oracle.Call): the readable format is parsed once, in Java.
 *
 * Input, one line each:
 *   window PAGES                       first line: the window's size
 *   mmap PAGE PAGES PROT FLAGS         anonymous; FLAGS as Linux's; PAGE is the address (fixed) or hint
 *   munmap PAGE PAGES
 *   mprotect PAGE PAGES PROT
 *   pkey_mprotect PAGE PAGES PROT      key -1: the default key, as mprotect
 *   mremap PAGE OLD NEW FLAGS NEWPAGE   NEWPAGE only counts with MREMAP_FIXED
 *   madvise PAGE PAGES ADVICE
 *   mlock2 PAGE PAGES FLAGS
 *   munlock PAGE PAGES
 *   mlockall FLAGS
 *   munlockall
 *   touch PAGE 0|1                     read (0) or write (1) one byte of the page
 * PAGE is a page offset in the window; a page count times the page size is the length.
 *
 * Output: "# KEY VALUE" settings that change the kernel's answers; one line per op: "ok VALUE" (VALUE: 0, or for
 * mmap and mremap the page offset of the address, "outside" when it is not in the window) or "err ERRNO",
 * and for a touch "mapped", "SIGSEGV" or "SIGBUS"; then, for each VMA overlapping the window,
 *   map START END PERMS OFFSET DEV INODE [PATH]    (START, END: page offsets in the window)
 *   smaps START END SIZE_KB RSS_KB ANON_KB DIRTY_KB LOCKED
 * DIRTY is Private_Dirty + Shared_Dirty; LOCKED is 1 when VmFlags has "lo".
 *
 * Where the window is: the address given as the one argument, far from everything the loader, libc and the heap
 * use (mmlab passes 0x200000000000, 32 TiB: below the mmap area, above any heap), checked free
 * (with a guard page each side) by a MAP_FIXED_NOREPLACE reservation that is unmapped again before the script.
 * Transparent huge pages are off for the whole process (PR_SET_THP_DISABLE): the model has no THP, and the
 * 512-page window is one aligned 2 MiB block that a THP fault would fill at once.
 * Exit status: 0 ran, 2 bad input, 3 the window could not be set up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static char *base;
static long npages;
static long page_size;
static sigjmp_buf touch_env;

static void on_fault(int sig) { siglongjmp(touch_env, sig); }

static const char *errno_name(int e) {
    switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case EFBIG: return "EFBIG";
    case ENOSYS: return "ENOSYS";
    case EOVERFLOW: return "EOVERFLOW";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "E%d", e);
        return buf;
    }
    }
}

static char *at(long page) { return base + page * page_size; }

static void print_status(long ret) {
    if (ret == -1)
        printf("err %s\n", errno_name(errno));
    else
        printf("ok %ld\n", ret);
}

/* An address result as a page offset in the window. */
static void print_address(void *p) {
    if (p == MAP_FAILED) {
        printf("err %s\n", errno_name(errno));
    } else if ((char *)p >= base && (char *)p < at(npages)) {
        printf("ok %ld\n", ((char *)p - base) / page_size);
    } else {
        printf("ok outside\n");
    }
}

static void touch(long page, int write) {
    volatile char *p = at(page);
    int sig = sigsetjmp(touch_env, 1);
    if (sig == 0) {
        if (write)
            *p = 1;
        else
            (void)*p;
        printf("mapped\n");
    } else {
        printf("%s\n", sig == SIGBUS ? "SIGBUS" : "SIGSEGV");
    }
}

static void print_setting(const char *key, const char *path) {
    char buf[256] = "?";
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        if (fgets(buf, sizeof buf, f) == NULL)
            strcpy(buf, "?");
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = 0;
    printf("# %s %s\n", key, buf);
}

static long kb(const char *line, const char *field) {
    size_t n = strlen(field);
    return strncmp(line, field, n) == 0 ? strtol(line + n, NULL, 10) : -1;
}

/* /proc/self/smaps for the VMAs overlapping the window: its header lines are the maps lines. */
static void dump_window(void) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL) {
        perror("/proc/self/smaps");
        exit(3);
    }
    char line[4096];
    unsigned long start = 0, end = 0;
    int in_window = 0;
    long size = 0, rss = 0, anon = 0, dirty = 0, v;
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = 0;
        unsigned long s, e, off, inode;
        char perms[8], dev[16];
        int rest = 0;
        if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %n", &s, &e, perms, &off, dev, &inode, &rest) == 6 && rest > 0) {
            start = s;
            end = e;
            in_window = s < (unsigned long)at(npages) && (unsigned long)base < e;
            size = rss = anon = dirty = 0;
            if (in_window)
                printf("map %ld %ld %s %08lx %s %lu%s%s\n", ((long)s - (long)base) / page_size,
                       ((long)e - (long)base) / page_size, perms, off, dev, inode, line[rest] ? " " : "", line + rest);
        } else if (!in_window) {
            continue;
        } else if ((v = kb(line, "Size:")) >= 0) {
            size = v;
        } else if ((v = kb(line, "Rss:")) >= 0) {
            rss = v;
        } else if ((v = kb(line, "Anonymous:")) >= 0) {
            anon = v;
        } else if ((v = kb(line, "Private_Dirty:")) >= 0 || (v = kb(line, "Shared_Dirty:")) >= 0) {
            dirty += v;
        } else if (strncmp(line, "VmFlags:", 8) == 0) {
            int locked = strstr(line, " lo") != NULL;
            printf("smaps %ld %ld %ld %ld %ld %ld %d\n", ((long)start - (long)base) / page_size,
                   ((long)end - (long)base) / page_size, size, rss, anon, dirty, locked);
        }
    }
    fclose(f);
}

int main(int argc, char **argv) {
    page_size = sysconf(_SC_PAGESIZE);
    char *end = NULL;
    base = argc == 2 ? (char *)strtoul(argv[1], &end, 0) : NULL;
    if (base == NULL || *end != 0 || (unsigned long)base % page_size != 0) {
        fprintf(stderr, "usage: oracle-driver WINDOW_ADDRESS < SCRIPT (a page-aligned address, e.g. 0x200000000000)\n");
        return 2;
    }
    struct utsname u;
    uname(&u);
    printf("# kernel %s\n", u.release);
    print_setting("thp", "/sys/kernel/mm/transparent_hugepage/enabled");
    print_setting("overcommit_memory", "/proc/sys/vm/overcommit_memory");
    print_setting("max_map_count", "/proc/sys/vm/max_map_count");
    if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0) {
        perror("prctl(PR_SET_THP_DISABLE)");
        return 3;
    }
    printf("# thp_disable 1\n");

    char line[512];
    int lineno = 0;
    if (fgets(line, sizeof line, stdin) == NULL || sscanf(line, "window %ld", &npages) != 1 || npages <= 0) {
        fprintf(stderr, "stdin:1: expected 'window PAGES'\n");
        return 2;
    }
    lineno++;
    void *guard = mmap(at(-1), (npages + 2) * page_size, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (guard != at(-1)) {
        fprintf(stderr, "window %p (+%ld pages) is not free: %s\n", (void *)base, npages,
                guard == MAP_FAILED ? strerror(errno) : "placed elsewhere");
        return 3;
    }
    munmap(guard, (npages + 2) * page_size);
    printf("# window %#lx %ld\n", (unsigned long)base, npages);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);

    while (fgets(line, sizeof line, stdin) != NULL) {
        lineno++;
        char op[32];
        long a[5] = {0};
        int n = sscanf(line, "%31s %ld %ld %ld %ld %ld", op, &a[0], &a[1], &a[2], &a[3], &a[4]);
        if (n < 1)
            continue;
        n--;
        if (!strcmp(op, "mmap") && n == 4) {
            print_address(mmap(at(a[0]), a[1] * page_size, (int)a[2], (int)a[3], -1, 0));
        } else if (!strcmp(op, "munmap") && n == 2) {
            print_status(munmap(at(a[0]), a[1] * page_size));
        } else if (!strcmp(op, "mprotect") && n == 3) {
            print_status(mprotect(at(a[0]), a[1] * page_size, (int)a[2]));
        } else if (!strcmp(op, "pkey_mprotect") && n == 3) {
            print_status(syscall(SYS_pkey_mprotect, at(a[0]), a[1] * page_size, (int)a[2], -1));
        } else if (!strcmp(op, "mremap") && n == 5) {
            /* Without MREMAP_FIXED the new address is NULL: ignored, or for DONTUNMAP no hint. */
            print_address(mremap(at(a[0]), a[1] * page_size, a[2] * page_size, (int)a[3],
                                 (a[3] & MREMAP_FIXED) ? at(a[4]) : NULL));
        } else if (!strcmp(op, "madvise") && n == 3) {
            print_status(madvise(at(a[0]), a[1] * page_size, (int)a[2]));
        } else if (!strcmp(op, "mlock2") && n == 3) {
            print_status(syscall(SYS_mlock2, at(a[0]), a[1] * page_size, (int)a[2]));
        } else if (!strcmp(op, "munlock") && n == 2) {
            print_status(munlock(at(a[0]), a[1] * page_size));
        } else if (!strcmp(op, "mlockall") && n == 1) {
            print_status(mlockall((int)a[0]));
        } else if (!strcmp(op, "munlockall") && n == 0) {
            print_status(munlockall());
        } else if (!strcmp(op, "touch") && n == 2) {
            touch(a[0], (int)a[1]);
        } else {
            fprintf(stderr, "stdin:%d: not an op this driver knows: %s", lineno, line);
            return 2;
        }
    }
    dump_window();
    fflush(stdout);
    return 0;
}
