// setjmp/longjmp across C frames: zig's wasi-libc implements them with WebAssembly
// exception handling (longjmp throws the `__c_longjmp` tag, setjmp's caller catches
// it in a `try_table`). Prints a report tests/all/sjlj.rs compares. Build (zig's
// wasi-libc, PyPI package `ziglang`):
//   python3 -m ziglang cc --target=wasm32-wasi -O2 -s -mexception-handling \
//     -mllvm -wasm-enable-sjlj -mllvm -wasm-use-legacy-eh=false -o sjlj.wasm sjlj.c
#include <setjmp.h>
#include <stdio.h>

// The tag wasi-libc's longjmp throws: zig's copy of wasi-libc references it but
// leaves its definition to the program.
__asm__(".globl __c_longjmp\n.tagtype __c_longjmp i32\n__c_longjmp:\n");

static jmp_buf env;
static int depth_reached;

static void dive(int depth, int at) {
    depth_reached = depth;
    if (depth == at) longjmp(env, depth + 100);
    dive(depth + 1, at);
    printf("not reached\n");
}

static int nested(int n) {
    jmp_buf inner;
    int r = setjmp(inner);
    if (r == 0) {
        if (n > 0) longjmp(inner, n);
        return -1;
    }
    return r * 2;
}

int main(void) {
    int total = 0;
    for (int at = 0; at < 5; at++) {
        int r = setjmp(env);
        if (r == 0) {
            dive(0, at * 3);
        } else {
            printf("longjmp from depth %d returned %d\n", depth_reached, r);
            total += r;
        }
    }
    printf("nested: %d %d\n", nested(0), nested(21));
    // longjmp with 0 makes setjmp return 1.
    volatile int zero_seen = 0;
    if (setjmp(env) == 0) longjmp(env, 0); else zero_seen = 1;
    printf("zero value: %d\n", zero_seen);
    printf("total %d\n", total);
    return total == 530 ? 0 : 1;
}
