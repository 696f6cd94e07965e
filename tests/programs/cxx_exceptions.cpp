// C++ exceptions compiled to WebAssembly exception handling (try_table, throw,
// exnref): throw and catch by type, std::exception subclasses from libc++,
// destructors run while unwinding, rethrow, catch (...), an exception crossing
// several frames. Prints a report tests/all/cxx_exceptions.rs compares.
//
// zig's libc++abi for wasm32-wasi is built without exception support (linking a
// program that throws fails with undefined `__cxa_throw`, `__cxa_begin_catch`,
// `_Unwind_CallPersonality`, `__cpp_exception`...), so the build compiles the
// exception parts of the libc++abi and libunwind sources zig ships and links them
// in. Build (PyPI package `ziglang`, 0.17.1), Z being the ziglang package folder:
//   FL="-target wasm32-wasi -O2 -fwasm-exceptions -mexception-handling -mllvm -wasm-use-legacy-eh=false"
//   python3 -m ziglang c++ $FL -std=c++23 -D_LIBCXXABI_BUILDING_LIBRARY -D_LIBCPP_BUILDING_LIBRARY \
//     -D_LIBCXXABI_HAS_NO_THREADS -I$Z/lib/libcxxabi/include -I$Z/lib/libcxx/src \
//     -I$Z/lib/libunwind/include -c $Z/lib/libcxxabi/src/cxa_exception.cpp $Z/lib/libcxxabi/src/cxa_personality.cpp
//   python3 -m ziglang cc $FL -D_LIBUNWIND_HIDE_SYMBOLS -I$Z/lib/libunwind/include \
//     -c $Z/lib/libunwind/src/Unwind-wasm.c
//   python3 -m ziglang c++ $FL -s -o cxx_exceptions.wasm cxx_exceptions.cpp \
//     cxa_exception.o cxa_personality.o Unwind-wasm.o
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

// The tag C++ exceptions are thrown with (the exception object's address): nothing
// in zig's libraries defines it, so the program does.
__asm__(".globl __cpp_exception\n.tagtype __cpp_exception i32\n__cpp_exception:\n");

struct Boom {
    int code;
};

static int destroyed;

struct Guard {
    int id;
    ~Guard() { destroyed += id; }
};

static int thrower(int n) {
    Guard g{n};
    if (n == 3) throw Boom{n * 10};
    if (n == 5) throw std::runtime_error("five");
    if (n == 7) throw std::string("seven");
    if (n == 9) throw 9.5;
    return n;
}

static int deep(int depth, int at) {
    Guard g{1};
    if (depth == at) throw std::out_of_range("depth " + std::to_string(depth));
    return deep(depth + 1, at) + 1;
}

static int rethrows(int n) {
    try {
        return thrower(n);
    } catch (const Boom &b) {
        std::printf("rethrowing Boom %d\n", b.code);
        throw;
    }
}

int main() {
    int total = 0;
    for (int i = 0; i < 11; i++) {
        try {
            total += thrower(i);
        } catch (const Boom &b) {
            std::printf("caught Boom %d\n", b.code);
            total += b.code;
        } catch (const std::exception &e) {
            std::printf("caught std::exception: %s\n", e.what());
        } catch (const std::string &s) {
            std::printf("caught std::string: %s\n", s.c_str());
        } catch (...) {
            std::printf("caught something else at %d\n", i);
        }
    }
    std::printf("total %d, destructors %d\n", total, destroyed);

    destroyed = 0;
    try {
        deep(0, 20);
    } catch (const std::logic_error &e) {
        std::printf("deep: %s, destructors %d\n", e.what(), destroyed);
    }

    try {
        rethrows(3);
    } catch (const Boom &b) {
        std::printf("caught rethrown Boom %d\n", b.code);
    }

    std::vector<int> v(3);
    try {
        std::printf("%d\n", v.at(5));
    } catch (const std::out_of_range &) {
        std::printf("vector::at threw out_of_range\n");
    }

    int caught = 0;
    for (int i = 0; i < 1000; i++) {
        try {
            throw Boom{i};
        } catch (const Boom &b) {
            caught += b.code;
        }
    }
    std::printf("1000 throws, sum %d\n", caught);
    return 0;
}
