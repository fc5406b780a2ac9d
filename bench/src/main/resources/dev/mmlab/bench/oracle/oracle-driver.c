/*
 * mmlab's kernel driver: runs an op script on the real kernel, inside a window of its own address space, and
 * prints what the kernel answered. `mmlab oracle` compiles it with `cc -O2` and feeds it the script already
 * lowered to numbers (dev.mmlab.bench.oracle.Call): the readable format is parsed once, in Java.
 *
 * Input, one line each:
 *   window PAGES                       first line: the window's size
 *   file PAGES NAME                    before the ops: creates NAME, PAGES pages, in a fresh temporary directory;
 *                                      page i holds the 8-byte number i + 1 at its start, zeros after
 *   mmap PAGE PAGES PROT FLAGS         anonymous; FLAGS as Linux's; PAGE is the address (fixed) or hint
 *   mmap PAGE PAGES PROT FLAGS OFF NAME  of file NAME (opened read-write) from page OFF
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
 *   fork N                             the next N lines are the child's: it runs them and exits; the parent
 *                                      waits, then goes on after them
 * PAGE is a page offset in the window; a page count times the page size is the length.
 *
 * Output: "# KEY VALUE" settings that change the kernel's answers; one line per op: "ok VALUE" (VALUE: 0, or for
 * mmap and mremap the page offset of the address, "outside" when it is not in the window) or "err ERRNO",
 * and for a touch "mapped", "SIGSEGV" or "SIGBUS"; then, for each VMA overlapping the window,
 *   map START END PERMS OFFSET DEV INODE [PATH]    (START, END: page offsets in the window)
 *   smaps START END SIZE_KB RSS_KB ANON_KB DIRTY_KB LOCKED
 * DIRTY is Private_Dirty + Shared_Dirty; LOCKED is 1 when VmFlags has "lo". A file's PATH is its script name
 * (the temporary directory is cut off). A fork prints "ok fork" (or "err ERRNO") and then everything the child
 * printed, its results and its window at its exit, each line prefixed "child: "; the child's output comes through
 * a pipe, so it never interleaves with the parent's.
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
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

static char *base;
static long npages;
static long page_size;
static sigjmp_buf touch_env;

/* The script's files: their directory (empty until the first is made), names and descriptors. */
#define MAX_FILES 64
static char file_dir[256];
static char file_names[MAX_FILES][64];
static int file_fds[MAX_FILES];
static int nfiles;

/* The whole input after the window line, read before any op runs so a child can run its lines from memory. */
static char **lines;
static int nlines;

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
            const char *path = line + rest;
            size_t dir_len = strlen(file_dir);
            if (dir_len > 0 && strncmp(path, file_dir, dir_len) == 0 && path[dir_len] == '/')
                path += dir_len + 1;
            if (in_window)
                printf("map %ld %ld %s %08lx %s %lu%s%s\n", ((long)s - (long)base) / page_size,
                       ((long)e - (long)base) / page_size, perms, off, dev, inode, *path ? " " : "", path);
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

static void read_lines(void) {
    char line[512];
    int cap = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
        if (nlines == cap) {
            cap = cap == 0 ? 256 : cap * 2;
            lines = realloc(lines, cap * sizeof *lines);
            if (lines == NULL) {
                perror("realloc");
                exit(3);
            }
        }
        lines[nlines++] = strdup(line);
    }
}

static const char *fs_name(long type) {
    switch (type) {
    case 0xEF53: return "ext4";
    case 0x01021994: return "tmpfs";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x794c7630: return "overlayfs";
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "%#lx", type);
        return buf;
    }
    }
}

/* Makes file NAME of PAGES pages in the script's directory, made on the first call, and keeps it open. */
static void make_file(const char *name, long pages) {
    if (file_dir[0] == 0) {
        const char *tmp = getenv("TMPDIR");
        snprintf(file_dir, sizeof file_dir, "%s/mmlab-oracle-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
        if (mkdtemp(file_dir) == NULL) {
            perror("mkdtemp");
            exit(3);
        }
        struct statfs fs;
        if (statfs(file_dir, &fs) == 0)
            printf("# file_system %s\n", fs_name((long)fs.f_type));
    }
    if (nfiles == MAX_FILES) {
        fprintf(stderr, "more than %d files\n", MAX_FILES);
        exit(2);
    }
    char path[sizeof file_dir + sizeof file_names[0] + 1];
    snprintf(path, sizeof path, "%s/%s", file_dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ftruncate(fd, pages * page_size) != 0) {
        perror(path);
        exit(3);
    }
    for (long i = 0; i < pages; i++) {
        long word = i + 1;
        if (pwrite(fd, &word, sizeof word, i * page_size) != (ssize_t)sizeof word) {
            perror(path);
            exit(3);
        }
    }
    /* Written back and dropped from the page cache, so the script starts as the model does: a clean file whose
     * pages are read on their first fault. */
    if (fsync(fd) != 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0) {
        perror(path);
        exit(3);
    }
    snprintf(file_names[nfiles], sizeof file_names[nfiles], "%s", name);
    file_fds[nfiles++] = fd;
}

static int file_fd(const char *name) {
    for (int i = 0; i < nfiles; i++)
        if (strcmp(file_names[i], name) == 0)
            return file_fds[i];
    return -1;
}

static void remove_files(void) {
    char path[sizeof file_dir + sizeof file_names[0] + 1];
    for (int i = 0; i < nfiles; i++) {
        snprintf(path, sizeof path, "%s/%s", file_dir, file_names[i]);
        unlink(path);
    }
    if (file_dir[0] != 0)
        rmdir(file_dir);
}

static void run_lines(int from, int to);

/*
 * fork: the child runs lines [from, to) with its stdout on a pipe, prints its window and exits; the parent copies
 * the pipe to its own output, each line prefixed "child: ", and waits for it.
 */
static void run_fork(int from, int to) {
    int fds[2];
    fflush(stdout);
    if (pipe(fds) != 0) {
        printf("err %s\n", errno_name(errno));
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        printf("err %s\n", errno_name(errno));
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[1]);
        run_lines(from, to);
        dump_window();
        fflush(stdout);
        _exit(0);
    }
    close(fds[1]);
    printf("ok fork\n");
    FILE *child = fdopen(fds[0], "r");
    char line[4096];
    while (child != NULL && fgets(line, sizeof line, child) != NULL)
        printf("child: %s", line);
    if (child != NULL)
        fclose(child);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "the child of a fork failed (status %#x)\n", status);
        exit(3);
    }
}

static void run_lines(int from, int to) {
    for (int i = from; i < to; i++) {
        const char *line = lines[i];
        char op[32], name[64] = "";
        long a[6] = {0};
        int n = sscanf(line, "%31s %ld %ld %ld %ld %ld %63s", op, &a[0], &a[1], &a[2], &a[3], &a[4], name);
        if (n < 1)
            continue;
        n--;
        if (!strcmp(op, "file")) /* "file PAGES NAME": the name ends the numbers */
            n = sscanf(line, "file %ld %63s", &a[0], name);
        if (!strcmp(op, "file")) {
            if (n != 2 || name[0] == 0) {
                fprintf(stderr, "stdin:%d: expected 'file PAGES NAME': %s", i + 2, line);
                exit(2);
            }
            make_file(name, a[0]);
        } else if (!strcmp(op, "mmap") && n == 4) {
            print_address(mmap(at(a[0]), a[1] * page_size, (int)a[2], (int)a[3], -1, 0));
        } else if (!strcmp(op, "mmap") && n == 6) {
            int fd = file_fd(name);
            if (fd < 0) {
                fprintf(stderr, "stdin:%d: no file %s\n", i + 2, name);
                exit(2);
            }
            print_address(mmap(at(a[0]), a[1] * page_size, (int)a[2], (int)a[3], fd, a[4] * page_size));
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
        } else if (!strcmp(op, "fork") && n == 1 && a[0] >= 0 && i + 1 + a[0] <= to) {
            run_fork(i + 1, i + 1 + (int)a[0]);
            i += (int)a[0];
        } else {
            fprintf(stderr, "stdin:%d: not an op this driver knows: %s", i + 2, line);
            exit(2);
        }
    }
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
    if (fgets(line, sizeof line, stdin) == NULL || sscanf(line, "window %ld", &npages) != 1 || npages <= 0) {
        fprintf(stderr, "stdin:1: expected 'window PAGES'\n");
        return 2;
    }
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

    read_lines();
    run_lines(0, nlines);
    dump_window();
    fflush(stdout);
    remove_files();
    return 0;
}
