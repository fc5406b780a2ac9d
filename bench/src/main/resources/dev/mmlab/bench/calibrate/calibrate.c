/*
 * mmlab calibrate --source kernel: times this machine's kernel at the steps the virtual clock prices.
 *
 * Usage: calibrate [--quick]
 * Prints one "NAME NANOS" line per measurement (the median of several repetitions, nanoseconds per unit
 * named in the comment where it is measured), and "# text" lines the profile keeps as notes. mmlab turns the
 * measurements into steps (KernelProbe.java); this program only measures.
 *
 * Transparent huge pages are off for the whole process (PR_SET_THP_DISABLE, and MADV_NOHUGEPAGE on every
 * region): a 2 MiB fault would stand for 512 small ones and the steps are per 4 KiB page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/futex.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_SET_THP_DISABLE
#define PR_SET_THP_DISABLE 41
#endif

#define PAGE 4096L
#define PMD (2L * 1024 * 1024)
#define MAX_REPS 15

static int quick;
static int reps;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void report(const char *name, double *samples) {
    printf("%s %.3f\n", name, median(samples, reps));
    fflush(stdout);
}

static void die(const char *what) {
    fprintf(stderr, "calibrate: %s: %s\n", what, strerror(errno));
    exit(1);
}

static char *map_anon(long bytes) {
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        die("mmap");
    }
    madvise(p, bytes, MADV_NOHUGEPAGE);
    return p;
}

static void touch_write(char *p, long bytes, long stride) {
    for (long off = 0; off < bytes; off += stride) {
        ((volatile char *)p)[off] = 1;
    }
}

static long touch_read(char *p, long bytes, long stride) {
    long sum = 0;
    for (long off = 0; off < bytes; off += stride) {
        sum += ((volatile char *)p)[off];
    }
    return sum;
}

/* SYSCALL: a null syscall (getppid, which no libc caches), ns per call. */
static void null_syscall(void) {
    long n = quick ? 200000 : 1000000;
    double s[MAX_REPS];
    for (int r = 0; r < reps; r++) {
        double t = now_ns();
        for (long i = 0; i < n; i++) {
            syscall(SYS_getppid);
        }
        s[r] = (now_ns() - t) / n;
    }
    report("syscall", s);
}

/*
 * page_fault1: write one byte per page of a fresh anonymous region (ns per page: fault_anon_write), then
 * munmap it (ns per page: munmap_populated); read-touch a fresh region (the zero page; fault_anon_read); and
 * munmap the same size untouched (munmap_untouched, per page of the region) for zap's baseline.
 */
static void anon_faults(void) {
    long bytes = (quick ? 64L : 128L) << 20;
    long pages = bytes / PAGE;
    double w[MAX_REPS], u[MAX_REPS], rd[MAX_REPS], clean[MAX_REPS];
    for (int r = 0; r < reps; r++) {
        char *p = map_anon(bytes);
        double t = now_ns();
        touch_write(p, bytes, PAGE);
        w[r] = (now_ns() - t) / pages;
        t = now_ns();
        munmap(p, bytes);
        u[r] = (now_ns() - t) / pages;

        p = map_anon(bytes);
        t = now_ns();
        touch_read(p, bytes, PAGE);
        rd[r] = (now_ns() - t) / pages;
        munmap(p, bytes);

        p = map_anon(bytes);
        t = now_ns();
        munmap(p, bytes);
        clean[r] = (now_ns() - t) / pages;
    }
    report("fault_anon_write", w);
    report("munmap_populated", u);
    report("fault_anon_read", rd);
    report("munmap_untouched", clean);
}

/*
 * One write per 2 MiB of a large region, so every fault also allocates a PTE table (ns per touch:
 * sparse_touch), and its munmap, which frees one table and zaps one page per touch (ns per table:
 * sparse_munmap).
 */
static void pte_tables(void) {
    long bytes = (quick ? 2L : 8L) << 30;
    long tables = bytes / PMD;
    double t1[MAX_REPS], t2[MAX_REPS];
    for (int r = 0; r < reps; r++) {
        char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            die("mmap of the sparse region");
        }
        madvise(p, bytes, MADV_NOHUGEPAGE);
        double t = now_ns();
        touch_write(p, bytes, PMD);
        t1[r] = (now_ns() - t) / tables;
        t = now_ns();
        munmap(p, bytes);
        t2[r] = (now_ns() - t) / tables;
    }
    report("sparse_touch", t1);
    report("sparse_munmap", t2);
}

/*
 * File pages already in the page cache (a memfd, filled first). A write to a MAP_SHARED mapping is one fault
 * that maps one page cache page (file_fault_shared; page_fault3), where a read fault would map up to 16 at a
 * time (fault-around), which the model does not do. A write to a MAP_PRIVATE mapping copies the page cache
 * page into a new anonymous page in one fault (file_fault_cow: do_cow_fault; page_fault2).
 */
static void file_faults(void) {
    long bytes = (quick ? 32L : 64L) << 20;
    long pages = bytes / PAGE;
    int fd = (int)syscall(SYS_memfd_create, "mmlab-calibrate", 0);
    if (fd < 0) {
        die("memfd_create");
    }
    if (ftruncate(fd, bytes) != 0) {
        die("ftruncate");
    }
    char *fill = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fill == MAP_FAILED) {
        die("mmap of the memfd");
    }
    touch_write(fill, bytes, PAGE);
    munmap(fill, bytes);
    double sh[MAX_REPS], cow[MAX_REPS];
    for (int r = 0; r < reps; r++) {
        char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            die("mmap shared");
        }
        madvise(p, bytes, MADV_NOHUGEPAGE);
        double t = now_ns();
        touch_write(p, bytes, PAGE);
        sh[r] = (now_ns() - t) / pages;
        munmap(p, bytes);

        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            die("mmap private");
        }
        madvise(p, bytes, MADV_NOHUGEPAGE);
        t = now_ns();
        touch_write(p, bytes, PAGE);
        cow[r] = (now_ns() - t) / pages;
        munmap(p, bytes);
    }
    close(fd);
    report("file_fault_shared", sh);
    report("file_fault_cow", cow);
}

/* mmap1: mmap and munmap 128 MiB without touching it, ns per iteration (two syscalls). */
static void mmap_munmap(void) {
    long bytes = 128L << 20;
    long n = quick ? 20000 : 100000;
    double s[MAX_REPS];
    for (int r = 0; r < reps; r++) {
        double t = now_ns();
        for (long i = 0; i < n; i++) {
            char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) {
                die("mmap");
            }
            munmap(p, bytes);
        }
        s[r] = (now_ns() - t) / n;
    }
    report("mmap_munmap", s);
}

/* n one-page VMAs, alternately read-only and read-write so that none merges with its neighbour. */
static char *many_vmas(long n) {
    char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        die("mmap");
    }
    for (long i = 0; i < n; i += 2) {
        if (mprotect(p + i * PAGE, PAGE, PROT_READ) != 0) {
            die("mprotect");
        }
    }
    return p;
}

static long read_maps(void) {
    static char buf[1 << 16];
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0) {
        die("open /proc/self/maps");
    }
    long lines = 0;
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < got; i++) {
            lines += buf[i] == '\n';
        }
    }
    close(fd);
    return lines;
}

/* A full read of /proc/self/maps with few and with many more VMAs: ns per extra line (proc_line). */
static void proc_maps(void) {
    long extra = quick ? 2000 : 5000;
    int rounds = quick ? 20 : 50;
    double s[MAX_REPS];
    for (int r = 0; r < reps; r++) {
        long before = read_maps();
        double t = now_ns();
        for (int i = 0; i < rounds; i++) {
            read_maps();
        }
        double few = (now_ns() - t) / rounds;
        char *p = many_vmas(extra);
        long after = read_maps();
        t = now_ns();
        for (int i = 0; i < rounds; i++) {
            read_maps();
        }
        double many = (now_ns() - t) / rounds;
        munmap(p, extra * PAGE);
        s[r] = (many - few) / (after - before);
    }
    report("proc_line", s);
}

/* ns of the fork() call alone, as the parent sees it: the copy; the child's exit and the wait are not timed. */
static double fork_once_ns(int rounds) {
    double total = 0;
    for (int i = 0; i < rounds; i++) {
        double t = now_ns();
        pid_t pid = fork();
        if (pid == 0) {
            _exit(0);
        }
        total += now_ns() - t;
        if (pid < 0) {
            die("fork");
        }
        waitpid(pid, NULL, 0);
    }
    return total / rounds;
}

/*
 * fork(), timed in the parent: as is, with many more VMAs (fork_vma: ns per extra VMA copied), and with many
 * more populated pages (fork_page: ns per extra page, its PTE copied and write-protected).
 */
static void fork_costs(void) {
    long vmas = quick ? 2000 : 5000;
    long bytes = (quick ? 32L : 64L) << 20;
    int rounds = quick ? 20 : 50;
    double v[MAX_REPS], pg[MAX_REPS];
    for (int r = 0; r < reps; r++) {
        double base = fork_once_ns(rounds);
        char *p = many_vmas(vmas);
        v[r] = (fork_once_ns(rounds) - base) / vmas;
        munmap(p, vmas * PAGE);

        base = fork_once_ns(rounds);
        p = map_anon(bytes);
        touch_write(p, bytes, PAGE);
        pg[r] = (fork_once_ns(rounds) - base) / (bytes / PAGE);
        munmap(p, bytes);
    }
    report("fork_vma", v);
    report("fork_page", pg);
}

static int ncpus;

static int pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

/* The two CPUs the two-thread tests run on: the first two this process may use. */
static int cpu_a = -1, cpu_b = -1;

static void choose_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        die("sched_getaffinity");
    }
    ncpus = CPU_COUNT(&set);
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &set)) {
            if (cpu_a < 0) {
                cpu_a = c;
            } else if (cpu_b < 0) {
                cpu_b = c;
            }
        }
    }
    printf("cpus %d\n", ncpus);
    if (cpu_b < 0) {
        printf("# only one CPU: the two-thread tests run both threads on it and measure switches, not transfers\n");
    }
}

struct pingpong {
    _Alignas(64) volatile long counter;
    _Alignas(64) long rounds;
    int futex;
    int by_futex;
};

static int futex(int *addr, int op, int val) {
    return (int)syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

/* The partner: answers each odd value with the next even one (atomics), or hands the futex word back. */
static void *partner(void *arg) {
    struct pingpong *pp = arg;
    if (cpu_b >= 0) {
        pin(cpu_b);
    }
    for (long i = 0; i < pp->rounds; i++) {
        if (pp->by_futex) {
            while (__atomic_load_n(&pp->futex, __ATOMIC_ACQUIRE) != 1) {
                futex(&pp->futex, FUTEX_WAIT_PRIVATE, 0);
            }
            __atomic_store_n(&pp->futex, 0, __ATOMIC_RELEASE);
            futex(&pp->futex, FUTEX_WAKE_PRIVATE, 1);
        } else {
            while ((__atomic_load_n(&pp->counter, __ATOMIC_ACQUIRE) & 1) == 0) {
            }
            __atomic_fetch_add(&pp->counter, 1, __ATOMIC_ACQ_REL);
        }
    }
    return NULL;
}

/*
 * ns per round trip between two threads on two CPUs: by atomics on one line, or by futex wait and wake. The
 * median of short batches, not the mean of all: when another program takes one of the two CPUs for a time
 * slice, the batches it lands in are slow and fall out of the median, which is what the step means (a transfer
 * between two running CPUs).
 */
static double ping_pong(long batches, long batch, int by_futex) {
    struct pingpong *pp = aligned_alloc(64, sizeof *pp);
    memset(pp, 0, sizeof *pp);
    pp->rounds = batches * batch;
    pp->by_futex = by_futex;
    double *per = malloc(batches * sizeof *per);
    pthread_t t;
    pthread_create(&t, NULL, partner, pp);
    for (long b = 0; b < batches; b++) {
        double start = now_ns();
        for (long i = 0; i < batch; i++) {
            if (by_futex) {
                __atomic_store_n(&pp->futex, 1, __ATOMIC_RELEASE);
                futex(&pp->futex, FUTEX_WAKE_PRIVATE, 1);
                while (__atomic_load_n(&pp->futex, __ATOMIC_ACQUIRE) != 0) {
                    futex(&pp->futex, FUTEX_WAIT_PRIVATE, 1);
                }
            } else {
                __atomic_fetch_add(&pp->counter, 1, __ATOMIC_ACQ_REL);
                while ((__atomic_load_n(&pp->counter, __ATOMIC_ACQUIRE) & 1) != 0) {
                }
            }
        }
        per[b] = (now_ns() - start) / batch;
    }
    pthread_join(t, NULL);
    double ns = median(per, (int)batches);
    free(per);
    free(pp);
    return ns;
}

static inline void spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * The cache and lock steps: line_round_trip (two CPUs ping-pong one counter with atomic increments, ns per
 * round trip, the median of batches of 1000), atomic_local (atomic increments of a line this CPU holds), read_local (a chain of dependent
 * loads that hit L1: latency, not throughput), spin (one pause), futex_round_trip (two threads hand a futex
 * word back and forth, each waiting in FUTEX_WAIT: two wake-ups per round trip; batches of 20).
 */
static void cache_and_locks(void) {
    long batches = quick ? 50 : 200;
    long n = quick ? 20000000 : 100000000;
    if (cpu_a >= 0) {
        pin(cpu_a);
    }
    double line[MAX_REPS], atomic[MAX_REPS], load[MAX_REPS], spin[MAX_REPS], wake[MAX_REPS];
    static _Alignas(64) long word;
    static void *volatile chain[8];
    for (int i = 0; i < 8; i++) {
        chain[i] = (void *)&chain[(i + 1) % 8];
    }
    for (int r = 0; r < reps; r++) {
        line[r] = ping_pong(batches, 1000, 0);
        wake[r] = ping_pong(batches, 20, 1);

        double t = now_ns();
        for (long i = 0; i < n; i++) {
            __atomic_fetch_add(&word, 1, __ATOMIC_SEQ_CST);
        }
        atomic[r] = (now_ns() - t) / n;

        void *volatile *p = (void *volatile *)&chain[0];
        t = now_ns();
        for (long i = 0; i < n; i++) {
            p = (void *volatile *)*p;
        }
        load[r] = (now_ns() - t) / n;
        if (p == NULL) {
            printf("# unreachable\n");
        }

        long turns = n / 10;
        t = now_ns();
        for (long i = 0; i < turns; i++) {
            spin_pause();
        }
        spin[r] = (now_ns() - t) / turns;
    }
    report("line_round_trip", line);
    report("futex_round_trip", wake);
    report("atomic_local", atomic);
    report("read_local", load);
    report("spin", spin);
    /* Back to every CPU this process may use. */
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int c = 0; c < CPU_SETSIZE; c++) {
        CPU_SET(c, &all);
    }
    sched_setaffinity(0, sizeof all, &all);
}

int main(int argc, char **argv) {
    quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    reps = quick ? 3 : 7;
    if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0) {
        printf("# PR_SET_THP_DISABLE failed (%s): relying on MADV_NOHUGEPAGE alone\n", strerror(errno));
    }
    printf("reps %d\n", reps);
    choose_cpus();
    null_syscall();
    anon_faults();
    pte_tables();
    file_faults();
    mmap_munmap();
    proc_maps();
    fork_costs();
    cache_and_locks();
    return 0;
}
