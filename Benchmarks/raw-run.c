// The process-start control of `mairlab bench`: a C program that runs a flat guest image with
// raw Unicorn, set up as the harness sets up an engine (raw.h), and nothing else.
//   raw-run IMAGE LOAD_ADDRESS ENTRY UNTIL RAM_BASE RAM_SIZE
#include <stdio.h>
#include <stdlib.h>
#include "raw.h"

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: raw-run IMAGE LOAD_ADDRESS ENTRY UNTIL RAM_BASE RAM_SIZE\n");
        return 2;
    }
    FILE *file = fopen(argv[1], "rb");
    if (!file) { perror(argv[1]); return 2; }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    void *bytes = malloc((size_t)size);
    if (!bytes || fread(bytes, 1, (size_t)size, file) != (size_t)size) { perror(argv[1]); return 2; }
    fclose(file);
    mairlab_raw_segment segment = { strtoull(argv[2], NULL, 0), bytes, (uint64_t)size };
    mairlab_raw_spec spec = {0};
    spec.segments = &segment;
    spec.segment_count = 1;
    spec.entry = strtoull(argv[3], NULL, 0);
    spec.until = strtoull(argv[4], NULL, 0);
    spec.ram_base = strtoull(argv[5], NULL, 0);
    spec.ram_size = strtoull(argv[6], NULL, 0);
    spec.stack_pointer = spec.ram_base + spec.ram_size;
    mairlab_raw_result result = mairlab_raw_run(&spec);
    free(bytes);
    if (result.error || result.pc != spec.until) {
        fprintf(stderr, "raw-run: uc_err %d, stopped at 0x%llx\n", result.error, (unsigned long long)result.pc);
        return 1;
    }
    printf("completed at 0x%llx\n", (unsigned long long)result.pc);
    return 0;
}
