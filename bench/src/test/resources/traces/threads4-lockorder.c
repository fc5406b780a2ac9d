/* 4 threads, each looping: malloc, mmap 1 MiB, touch, mprotect, madvise(DONTNEED), munmap (issue 17). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ITERATIONS 200
#define REGION (1 << 20)

static void *worker(void *arg) {
    (void) arg;
    for (int i = 0; i < ITERATIONS; i++) {
        char *small = malloc(4096 + i);
        memset(small, i, 64);
        char *p = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) abort();
        for (int off = 0; off < REGION; off += 256 * 1024) p[off] = (char) i;
        mprotect(p, REGION / 2, PROT_READ);
        madvise(p + REGION / 2, REGION / 2, MADV_DONTNEED);
        munmap(p, REGION);
        free(small);
    }
    return NULL;
}

int main(void) {
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    return 0;
}
