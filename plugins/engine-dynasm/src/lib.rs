//! The `engine-dynasm` plugin: a single-pass x86-64 JIT that emits machine code
//! with `dynasmrt` in one pass over each function's operators, without an IR.
//! It lowers all of WebAssembly 2.0, simd128 and relaxed SIMD (with the
//! composition's `simd` plugin; without one, modules using v128 fail to compile
//! with "unsupported").
//!
//! Like engine-cranelift it never enters code or handles a fault itself: it
//! describes each module's code as a `vm_core::runtime::native::CodeMap`, links
//! vm-core's runtime functions (`vm_core::runtime::native::runtime_fns`) through
//! `Virt::link_libcalls` and calls them through the store context's table (so under
//! `virt-kvm` a runtime call is a VM exit), and runs calls from the host through
//! vm-core's `call_from_host` (its entry trampolines, `CallState::enter`). It needs
//! a `virt` plugin with `Virt::NATIVE_CODE`.
//!
//! | config key | default | meaning |
//! |---|---|---|
//! | `fuel` | 0 | fuel every new store starts with, one unit per wasm operator (see `vm_core::runtime::limits`); 0 = unmetered, and no metering code is emitted |
//! | `timeout_ms` | 0 | wall-clock limit of one call from the host; past it the guest traps with "interrupted" at its next function entry or loop header; 0 = none, and no check code is emitted |
//! | `interruptible` | `false` | emit the interruption checks without a timeout, for `Vm::interrupt_handle` |
//!
//! ```
//! use vm_core::runtime::{Features, ModuleInfo};
//! use vm_engine_dynasm::{CompileOptions, compile_module};
//!
//! let wat = r#"(module (func (export "add") (param i32 i32) (result i32)
//!                 local.get 0 local.get 1 i32.add))"#;
//! let module = ModuleInfo::decode(wat.as_bytes(), Features::default()).unwrap();
//! let code = compile_module(&module, CompileOptions::default()).unwrap();
//! assert!(code.function(0).is_some());
//! assert!(code.entry_trampoline(0).is_some());
//! ```
//!
//! # Design
//!
//! **One pass, one assembler per module.** [`compile_module`] walks every defined
//! function's operators once through vm-core's
//! [`Wasm2Operators`](vm_core::runtime::operators::Wasm2Operators) filter (so an
//! operator outside WebAssembly 2.0 is reported as
//! `unsupported: <op> (feature <proposal>)`), emitting into a single
//! `dynasmrt::VecAssembler` for the whole module: functions, out-of-line trap stubs
//! and the entry and host-call trampolines. Every reference inside the code is pc-relative (dynamic
//! labels for functions and branches), so the finished bytes are copied once into
//! a fresh mapping that becomes read-execute before anything runs (W^X, see
//! [`code`]).
//!
//! **Value stack of locations.** The translator mirrors the wasm operand stack with
//! one location per entry: a general-purpose register, an xmm register, a
//! not-yet-materialized constant (raw bits), or the entry's *canonical slot* (an
//! 8-byte frame slot determined by its stack depth). Within straight-line code
//! values stay in registers; when none of the class is free the deepest entry in
//! that class is spilled to its slot. Integer constants fold
//! (`i32.const 1 i32.const 2 i32.add`) and become immediates.
//!
//! **Two register classes, one slot per value.** Integers live in general-purpose
//! registers (13 allocatable: all but `rsp`, `rbp` and the scratch `r11`; 12 in a
//! module with a memory 0, where `r14` holds its base, see "Memory 0's base"
//! below; the `vmctx` register `r15` last, see "`vmctx` in `r15`"), floats produced or loaded by float operators in xmm
//! registers (15 allocatable: `xmm0`-`xmm14`; `xmm15` is the float scratch). Each
//! class has its own allocator (a free mask and a register → depth owner table),
//! and both spill to the same canonical slots, so joins, branches, `br_table`,
//! block parameters and call arguments/results see 8 bytes of raw bits whatever
//! the scalar type (16 for a v128, see below). The location itself says the
//! class: type-agnostic operators (`drop`,
//! `select`, `local.set`/`tee`, `global.set`, spills) need no type, and integer
//! operators pay for no type check (only `local.get` and `global.get` consult the
//! type: a flag per local, the module's global type). A float that reaches a general-purpose register (a
//! `select` of two slot values, say) is just its bits; a float operator moves it
//! into an xmm register with `movq` when it pops it, and an integer operator does
//! the reverse (which is all `reinterpret` is). `local.get`/`global.get` read
//! float locals and globals straight into xmm registers (the function keeps one
//! flag per local). An f32 occupies the low 32 bits of its register or slot; like
//! an i32's, the upper bits are unspecified and never read. Every xmm register is
//! caller-saved (calls flush the stack first), as in System V, so the entry
//! trampoline saves none.
//!
//! **v128: two units, prefix-summed slots.** A v128 lives in an xmm register
//! (the same allocator as floats) or in *two* consecutive 8-byte units of the
//! canonical slots: 16 bytes read and written with `movdqu` (no alignment needed).
//! The value stack keeps, per entry, the units through its end (a prefix sum), so
//! entry `d` starts `ends[d - 1]` units below depth 0's slot; validation makes the
//! types, hence the sizes, below any join identical on every path into it, so
//! flushed stacks still agree without moves. A scalar-only function has exactly
//! the one-unit-per-entry layout it had before. v128 locals take two units of the
//! locals area, globals use all of `VMGlobal` (`lo` then `hi`, 16 bytes from
//! `GLOBAL_LO`), and call areas and the entry trampoline count units the same
//! way (see the calling convention below). Every `Control` remembers its
//! signature so a join knows which of the values it receives are v128.
//!
//! **CPU features.** Scalar code is SSE2 (x86-64's baseline) except the float
//! rounding operators (`ceil`, `floor`, `trunc`, `nearest`), which use SSE4.1's
//! `roundss`/`roundsd`. [`compile_module`] checks the host CPU once per module
//! (`vm_core::runtime::cpu::has("sse4.1")`, so `VM_CPU_HIDE=sse4.1` simulates its
//! absence); without it a module using them fails to compile with
//! `engine-dynasm: F32Ceil needs SSE4.1 (roundss/roundsd), which this CPU lacks`,
//! and modules without them compile as usual. `popcnt` is used when the CPU has it
//! (else `i32.popcnt` is reported unsupported).
//!
//! **simd128** (every operator of the WebAssembly 2.0 SIMD proposal and of relaxed
//! SIMD, which computes vm-core's deterministic choices; see `translate/simd.rs` for
//! the lowering of each)
//! follows [`CompileOptions::simd`], the composition's `simd` plugin:
//!
//! | level | encodings |
//! |---|---|
//! | none composed (`None`) | every v128 value and operator: `unsupported: <op> (feature simd)` |
//! | `Sse41` | legacy SSE up to SSE4.1 with SSSE3 (`pshufb`, `pabs*`, `pmaddubsw`, `pmulhrsw`); two-operand forms, a `movdqa` first when the destination is not the first source |
//! | `Avx2` | VEX encodings of the same instructions: three-operand forms (no copies), AVX2's `vpbroadcast*` for splats and splat loads |
//! | `Scalar` | the `Sse41` code when the CPU has SSE4.1 and SSSE3 (the results are the same bits: every operator is exact or has wasm's NaN rules), else a compile error |
//!
//! `i64x2.gt_s`/`lt_s`/`le_s`/`ge_s` use SSE4.2's `pcmpgtq` at both levels (a
//! compile error naming it on a CPU without SSE4.2). A few instructions keep their
//! legacy encoding at `Avx2` (`pmovmskb`, `movmskps`/`movmskpd`, which write a
//! general-purpose register; dynasm's VEX forms of them do not assemble), and
//! three VEX forms are encoded by hand (`vcmpps`, `vcmppd`, `vshufps`: dynasm 5.1
//! puts their operands in the wrong fields). Only 128-bit VEX forms are used,
//! which clear the upper halves of the ymm registers, so mixing them with the
//! legacy scalar float code costs no state transitions. The CPU is checked once
//! per module (`Cpu`, through `vm_core::runtime::cpu::has`, so `VM_CPU_HIDE`
//! applies): a level the CPU lacks fails modules that use v128 with `engine-dynasm:
//! simd level avx2 needs AVX2, which this CPU lacks (compose simd-sse41 or
//! simd-scalar instead)` and leaves the others alone. No instruction the CPU lacks
//! is ever emitted.
//!
//! **Memory 0's base in `r14`.** In a module with a memory 0 (defined or
//! imported) every function keeps its base in `r14`, never allocated there: the
//! prologue loads it from `vmctx` (two dependent loads) and so does the code after
//! every call through a funcref (imported, indirect, host) and every runtime call
//! (`memory.grow` among them), since such a callee may have grown the memory or be
//! another instance whose prologue loaded its own base. A direct call needs no
//! reload: its callee shares the memory and returns the current base in `r14`.
//! An access is then `mov r32, r32` (zero-extension), `add addr, r14` and the
//! access itself, with guard pages; without them the explicit check still reads
//! the length through `vmctx` (`mov r11, [r15 + memory0]; cmp end, [r11 + len]`;
//! keeping the length in a register too is not done: it would cost every function
//! a second register, and only compositions without guard pages, such as
//! `virt-kvm`, would gain; not measured).
//! With guard pages the base never moves during the memory's life
//! (`vm_core::runtime::memory::LinearMemory::base`), but the reloads stay: the
//! callee of a funcref may be another instance. A function that neither accesses
//! memory nor calls anything but direct callees leaves `r14` untouched: its
//! loads are overwritten with `nop`s once it is translated (`Sites::nops`), so
//! a module with a memory costs such functions nothing but a `nop`.
//!
//! **Other memories (multi-memory)** have no register: an access to memory `n > 0`
//! loads its definition from `vmctx->memories[n]`, checks `zext(addr) + offset +
//! size` against its length explicitly (with or without guard pages) and adds its
//! base; `memory.size` reads the same definition and the bulk operators call
//! vm-core's runtime functions with the memory indexes. Memory 0's code is the
//! same as in a module with one memory.
//!
//! **memory64 and table64** follow vm-core's `operators::index64` lowering: each
//! `i64` operand (address, length, table index) is clamped to `u32::MAX` where it
//! is (`cmp`/`cmova` on a register, a compare and store on a slot, folded for a
//! constant), a static offset past `u32::MAX` is clamped at translation, and the
//! 32-bit code runs unchanged: with guard pages a clamped address lands in the
//! guard region like any out-of-bounds 32-bit one (a 64-bit memory holds less
//! than 4 GiB, `MAX_PAGES64`), without them the explicit check fails. `memory.grow`
//! and `table.grow` results are sign-extended, sizes zero-extended.
//!
//! **Control-flow joins: values never move (the singlepass choice).** At every
//! control-flow edge (block/loop/if entry, branch, `else`, `end`, call) the whole
//! value stack is flushed to canonical slots. A block's results therefore always
//! live in the slots of depths `height..height + arity`, on every path into the
//! join, and a branch only copies the values it carries down to those slots when
//! other values lie between. This is the simplest design that is obviously correct
//! for multi-value blocks, loops with parameters and `br_table` with stack results
//! (the weak spots of single-pass compilers); the price is stores and reloads of
//! the operand stack around every block boundary. Locals are another matter: the
//! most used ones live in registers for the whole function (see "Register
//! locals"), so they cross joins without moves.
//!
//! **Register locals, not Liftoff-style reconciliation (decided by measurement).**
//! In the corpus's hot loops the operand stack is empty at block boundaries: clang
//! keeps every loop-carried value in a local, so what the joins cost was locals in
//! frame memory (every `local.get` a load, every `local.set` a store, and
//! loop-carried values through store-to-load forwarding), not stack values. In
//! sha256's compression loop (one iteration: 80 instructions, 42 of them frame
//! accesses, and no value on the stack at its back edge) reconciling registers at
//! joins would have moved nothing. So instead of Liftoff's per-edge register
//! state, a linear pre-scan picks the most used integer and float locals of each
//! function (`translate/locals.rs`): they get registers of their own for the whole
//! body (at most 8 general-purpose: `rbx`, `r12`, `r13`, `rsi`, `rdi`, `r8`-`r10`;
//! at most 8 xmm: `xmm7`-`xmm14`), which the value stack then never allocates. A
//! join needs no moves for them (every path has them in the same registers), and
//! only calls cost anything: the written ones are stored to their frame slots
//! before a call (the value stack is flushed there anyway) and all are reloaded
//! after it; the pre-scan weighs uses and calls by loop depth and keeps a local in
//! memory when its calls would cost more than its uses save. The pre-scan reads
//! the operator bytes directly (a second `wasmparser` decode of every body cost a
//! fifth of the compiler's throughput; the byte scan costs about 35 instructions
//! an operator), and a test checks its counts against `wasmparser` on every body
//! of the spec suite and the corpus. `local.get` of a register local pushes the
//! register itself (an alias, read in place by operators that only read it); an
//! operator whose result the next operator stores to the register local it reads
//! (`i += 4`) computes in place; and a comparison followed by `br_if` or `if`
//! branches on its flags (`cmp; jcc`, no 0/1 value). In sha256's loop that leaves
//! 60 instructions, 13 of them frame accesses (the locals past the eight
//! registers, and one spill: three registers are left for the value stack).
//! A result that the next operator stores to a register local is written to it
//! directly, with no copy: a load, a frame local's `local.get`, a rotate by a
//! constant of a register local (BMI2's non-destructive `rorx` when the CPU has
//! it), and an add of a register local (or of anything whose sum goes to a
//! register local) as a `lea`, whose two-register form is encoded without a
//! displacement (a `lea` with a base, an index and a displacement takes two
//! cycles on AMD Zen and older Intel cores: emitted on sha256's critical path it
//! cost more than the instructions it saved). That loop was then 51
//! instructions, and is 50 since the value stack may take `r15` (below): the
//! spilled value's store and reload became one reload of `vmctx` at the back
//! edge (callgrind: one instruction fewer per round).
//!
//! **`vmctx` in `r15`, or in the frame.** `r15` holds the instance's `vmctx` at
//! every control-flow edge, call and return, and the prologue also stores it in
//! the frame (`rbp - 8`). Within straight-line code the value stack may take
//! `r15` as its last free register (in sha256's compression loop, 14 live
//! locals, 8 of them in registers, left 3 registers to the value stack and one
//! value spilled on the critical path): from then until the next edge, code that
//! needs `vmctx` (globals, `ref.func`, tables, `memory.size`, explicit bounds
//! checks) reads it from the frame (one more load), and the flush at the next edge
//! reloads `r15` (`FuncCompiler::flush`, one load). Functions that never run out
//! of the other registers get exactly the code they had with `r15` reserved.
//! (Making `r15` a ninth register local instead would have kept the spill: the
//! spilled value is on the operand stack, and three registers were left to it.)
//!
//! **The compile path.** `Vm::compile` of the twelve corpus modules costs 72.1 M
//! instructions (callgrind, `benches/compile_rounds.rs`: vm-core's decoding and
//! `wasmparser` validation 21.9 M, this engine 50.0 M); 85.9 M before the changes
//! listed here. The translation of each function reuses the allocations of the
//! previous one (`translate::Scratch`: locals, value stack, control stack, trap
//! stubs, pre-scan counts), the module's assembler is created with room for its
//! labels and relocations, block signatures are iterated instead of collected,
//! and the operator loop reads `local.get`/`set`/`tee` and `i32.const` (about
//! half of all operators) itself, handing the others to `wasmparser` through
//! `BinaryReader::visit_operator` with vm-core's frame stack for validated bodies
//! (which tracks no frames).
//!
//! **Frame layout** (`rbp` frame, so the `virt` plugin's frame walk works):
//!
//! | address | holds |
//! |---|---|
//! | `rbp + 16 + 8 * (area - 1 - k)` | argument/result `k` (the caller's area) |
//! | `rbp + 8` | return address |
//! | `rbp` | caller's `rbp` |
//! | `rbp - 8` | `vmctx` |
//! | `rbp - 16 - 8 * u` | unit `u` of the non-parameter locals (zeroed by the prologue) |
//! | below | the value stack's canonical slots, depth 0 first, downward |
//!
//! Every unit is 8 bytes of raw bits, integer or float alike; a v128 (local,
//! parameter, result or stack entry) takes two consecutive units and starts at the
//! lower address.
//!
//! `rsp` sits below the deepest canonical slot (the frame size is patched into the
//! prologue and after each call once the function is translated). The prologue
//! checks the new `rsp` against `VMStoreContext::stack_limit` and traps with
//! "call stack exhausted".
//!
//! **Calling convention between wasm functions**: `rdi` = callee `vmctx`, `rsi` =
//! caller `vmctx`; one area of `max(params, results)` 8-byte units at `rsp` (a
//! v128 counts two), argument or result `k` at `rsp + 8 * (area - end_k)` where
//! `end_k` is the units of values `0..=k` (`rsp + 8 * (area - 1 - k)` when all are
//! scalars), results written over the arguments (floats and v128 included: no
//! value is passed in an xmm register). The caller's flushed value stack is that area (no copies on either
//! side). Every register but `rsp`/`rbp` is caller-saved (a direct callee
//! also leaves `r14` holding memory 0's current base, see above). The [entry
//! trampoline](trampoline) turns the System V `trampoline(callee_vmctx,
//! caller_vmctx, code, args)` of [`vm_core::runtime::native::Entry`] (16-byte
//! argument slots, all of it used by a v128) into this convention.
//!
//! **Tail calls** (`return_call`, `return_call_indirect`) replace the frame: the
//! value stack is flushed as for a call, the return address and the caller's
//! `rbp` are read, the arguments are copied into the callee's area, placed so that
//! its top is the top of this function's own incoming area (the callee then
//! writes its results exactly where this function's caller expects them:
//! validation gives both functions the same results), the return address goes
//! right below it, `rbp` is restored, `rsp` points at the return address and the
//! code jumps to the callee, whose prologue runs as after a call. The callee's
//! area may be larger than this function's: it then covers the old return
//! address, saved `rbp` and maybe the top of this frame, which is why both are
//! read first and the arguments (whose source lies lower than any destination)
//! are copied highest unit first; `rsp` is first lowered to the new return
//! address when that is below it, after a stack-limit check, so that nothing live
//! is ever below `rsp`. A tail call through a funcref (an import,
//! `return_call_indirect` or `return_call_ref`) in a module with a memory 0
//! checks the callee's `vmctx` first: a callee of another instance, or a host
//! function, is called and its results returned instead, because a direct caller
//! of this function expects `r14` to hold its memory's base on return (see
//! "Memory 0's base" above), which such a callee would not leave there; between functions of one instance, and in
//! modules without a memory, stack space is constant. A callee that tail-called
//! one with a different area size returns with `rsp` moved by the difference, so
//! every caller re-derives `rsp` from `rbp` after a call (as it already did after
//! calls with an area and through funcrefs; a direct call of a function without
//! parameters or results gained that one `lea`, and the entry trampoline finds
//! the results from `rbp`). Ordinary calls are otherwise unchanged.
//!
//! **Typed function references** are funcref pointers like `funcref` (vm-core's
//! representation): `call_ref`/`return_call_ref` pop the funcref into `rbx`, trap on
//! null ("null function reference") and call (tail-call) through it as
//! `call_indirect` does, without the signature check (validation proved the type);
//! `ref.as_non_null` tests the register and traps ("null reference");
//! `br_on_null`/`br_on_non_null` flush the stack, test the reference's canonical
//! slot and branch like `br_if`, with or without the reference.
//!
//! **Exceptions** (`throw`, `throw_ref`, `try_table`; see `translate/exn.rs`):
//! nothing runs on the path that does not throw but one jump over a `try_table`'s
//! landing pad, emitted where it starts (the value stack is flushed there, so the
//! pad knows where every value is). Each call inside a `try_table` with clauses is
//! a handled call site in the module's `CodeMap` (return address, landing pad, the
//! function's frame size); a throw calls the module's throw stub
//! (`vm_core::runtime::native::exn::throw_stub`), vm-core walks the `rbp` chain to
//! the handler, and the pad reloads `r15` and memory 0's base, matches the clauses
//! (`exn_is`), copies the payload (`exn_payload`) and branches like `br`. Every
//! register being caller-saved between wasm functions, no callee-saved register
//! needs restoring. The host-call trampoline throws a host function's exception on.
//! A tail call is never a handled call site: a `return_call*` inside a
//! `try_table` leaves the frame, and its callee's exceptions are not caught there
//! (as the exception-handling proposal says); the call that stands in for a tail
//! call to another instance is not recorded either. Register locals need no
//! store before a tail jump: the value stack is flushed first (which writes any
//! register-local alias among the arguments to its slot), and the frame's locals
//! die with it; `call_ref`, like the other calls through `rbx` (one of the
//! register-local homes), stores them before `rbx` is loaded.
//!
//! **Traps** are described, never handled: `unreachable` is an inline `ud2`, and
//! division by zero, `MIN / -1`, float-to-int truncations of NaN ("invalid
//! conversion to integer") or of out-of-range values ("integer overflow"),
//! explicit bounds checks and the stack check jump to out-of-line `ud2` stubs, each recorded as a
//! [`TrapSite`](vm_core::runtime::native::TrapSite) with its
//! `TrapKind::Wasm(TrapCode)` and wasm offset in the module's
//! [`CodeMap`](vm_core::runtime::native::CodeMap). With guard pages
//! ([`CompileOptions::guard_pages`], from `Virt::GUARD_PAGES` and `Virt::guard_pages`) a load or store
//! with a static offset up to 2 GiB carries no check; the access itself is the
//! trap site.
//!
//! # Measured
//!
//! `compile_throughput` (an ignored test: 2,000 generated integer functions with
//! loops, loads, stores and calls, 1.11 MB of function bodies), release build on a
//! loaded 2-core machine, best of 5: 31 ms, **35.8 MB/s** of wasm, 5.28 MB of
//! x86-64 (4.7 code bytes per wasm byte: the flushes at every block boundary and
//! the bounds checks dominate; register locals and shorter encodings would shrink
//! it; taken before them). Not yet measured side by side with engine-cranelift on the
//! corpus, nor run time. Through `vm` (vm-bin built with `--no-default-features
//! --features engine-dynasm,virt-host,host-wasi,simd-sse41`): the twelve core-2.0
//! programs of the benchmark corpus print their expected output at their small
//! sizes, and `vm wast` over the 90 non-simd wasm-2.0 spec scripts passes 28,018
//! directives, 0 failed.
//!
//! Keeping memory 0's base in `r14` (instead of two dependent loads through
//! `vmctx` at every access), measured with callgrind on `vm run` (instructions,
//! whole process): sha256 `1` 28.72 G → 27.36 G (−4.7%), matmul `100` 90.9 M →
//! 81.8 M (−10.0%), sieve `100000` 45.3 M → 43.6 M (−3.9%), fib `25` 12.47 M →
//! 12.58 M (+0.9%: one `nop` per call of a function without memory accesses).
//!
//! Register locals with the comparisons that branch on their flags, the in-place
//! updates and `[r14 + index + offset]` operands (instead of adding the base to
//! the index first), the same measure: sha256 `1 20` 2.77 G → 2.14 G (−23%;
//! register locals alone: 2.61 G, −6%, the rest of their gain being latency, not
//! instructions), matmul `100` 81.8 M → 49.8 M (−39%), sieve `100000` 43.6 M →
//! 29.4 M (−33%), quicksort `20000` 37.3 M → 24.5 M (−34%), mandelbrot `200`
//! 49.4 M → 35.7 M (−28%), nbody `10000` 25.0 M → 20.2 M (−19%), fib `25`
//! 12.60 M → 12.27 M (−3%). The compiler's own instructions (`compile_module`
//! over the twelve corpus modules, callgrind) went from 54.3 M to 59.6 M
//! (+10%): the pre-scan, partly paid back by reserving the code and
//! source-location buffers up front instead of growing them (which also saves
//! the kernel time of the growth).
//!
//! The direct results above (`rorx`, `lea`, loads and frame locals into
//! register locals), same measure: sha256 `1 20` 2.14 G → 1.70 G (−21%, against
//! engine-cranelift's 2.03 G); its wall-clock gain came only once the
//! two-register `lea` lost its displacement byte (before that, 1.03× the user
//! time of the code without these changes; after, 0.89×: whole `vm run`
//! sha256 `1`, 5 pairs A B A B).
//!
//! # Status
//!
//! Done and tested (`tests.rs`, and end to end at the root: `tests/all/traps.rs`,
//! `limits.rs`, `wasi_misuse.rs`, `wasi_preview0.rs`, `bombs.rs`, `observer.rs`):
//! i32/i64 constants, locals, globals (get/set through `vmctx`), arithmetic,
//! comparisons, bitwise operators, shifts and rotates, `clz`/`ctz`/`popcnt`, `eqz`,
//! wrap/extend and sign-extension operators, division and remainder with their
//! traps, `select`, `drop`, `block`/`loop`/`if`/`else`/`br`/`br_if`/`br_table`/
//! `return` with block parameters and multi-value results, direct calls, calls of
//! imported (wasm or host) functions through their funcrefs and a host-call
//! trampoline per function type, `call_indirect` with its bounds, null and
//! signature checks, `ref.null`/`ref.is_null`/`ref.func`, `table.get`/`set`/
//! `size`/`grow`/`fill`/`copy`/`init`, `elem.drop` on any table, i32/i64 loads and
//! stores on memory 0 with explicit bounds checks or guard pages (the base kept in
//! `r14`, reloaded after every call that may grow the memory), `memory.size`,
//! `memory.grow`/`fill`/`copy`/`init`, `data.drop` (runtime functions; a failure
//! traps with the runtime function's pending trap), `unreachable`, fuel and
//! interruption checks (the translator's `limits` module), wasm-call observer events
//! (only when an observer of the composition subscribes), the `Engine`
//! implementation with stats and config, and the `engine-dynasm` features of the
//! root crate and of vm-bin. Every f32/f64 operator of
//! WebAssembly 2.0 (see `translate/float.rs`): constants, loads and stores,
//! arithmetic, `sqrt`, `min`/`max`, `abs`/`neg`/`copysign`, rounding, comparisons,
//! conversions both ways (unsigned i64 included), `demote`/`promote`,
//! reinterpretations, the trapping truncations (trap sites with
//! `IntegerOverflow`/`BadConversionToInteger`) and `trunc_sat`; floats in every
//! position (locals, globals, `select`, blocks, branches, `br_table`, calls).
//! `tests/spec.rs` runs the float-heavy wasm-2.0 spec scripts (and the integer
//! and control ones its harness can) through the in-process harness: 16,030
//! directives passed, 0 failed, 2,170 skipped (validation scripts, and modules
//! whose reachable code needs tables or runtime functions the harness lacks); the
//! eleven float scripts alone: 12,709 passed, 0 failed, 147 skipped (all
//! validation). simd128: every WebAssembly 2.0 SIMD operator at both the `Sse41`
//! and the `Avx2` encodings, v128 in every position (locals, parameters and
//! results through calls and the entry trampoline, globals, `select`, blocks,
//! loops, branches and `br_table` moving values over wide and narrow ones, spills
//! past the 15 xmm registers, guard-page trap sites; see `tests/simd.rs`), and
//! every lane operation checked against vm-core's portable definitions on
//! `vm_core::runtime::simd::sample_inputs` at both levels (shifts by variable and
//! constant counts). The 58 `simd_*.wast` scripts
//! through the same harness, v128 results compared lane by lane with the spec's
//! NaN patterns: 24,786 passed, 0 failed, 1,202 skipped at each level (1,179
//! validation directives; 21 of `simd_const.wast` need `call_indirect`, and
//! `simd_linking.wast`'s imports and `register`). End to end through `Vm` with
//! the build's simd plugin (root `tests/all`, `--features engine-dynasm`):
//! engine-dynasm is one of the spec test's engines (the 58 simd scripts: 25,988
//! passed, 0 failed; the 90 others: 28,018 passed, 0 failed), of the fuzz
//! regressions, and of `simd_abi.rs` (v128 through host calls, `call_indirect`,
//! globals, blocks; a simd operator costs one fuel unit).
//!
//! Not done (see "Register locals" above for why): Liftoff-style register
//! reconciliation of the operand stack at joins.

pub mod code;
mod trampoline;
// dynasm's dynamic register operands (`Rq(r)`) expand to `r.into()`, which is the
// identity for the `u8` register numbers used here.
#[allow(clippy::useless_conversion)]
mod translate;

use std::ops::Range;
use std::time::{Duration, Instant};

use dynasmrt::{DynasmApi, DynasmLabelApi};
use vm_core::plugin::PluginStats;
use vm_core::runtime::artifact::CodeImage;
use vm_core::runtime::native::runtime_fns;
use vm_core::runtime::native::{self, CallState, CodeMap, NativeEngine, TrapKind, TrapSite};
use vm_core::runtime::{CompileError, ExecLimits, Features, ModuleInfo, Store, Trap, Val};
use vm_core::slot::{Engine, EventKind, Simd, SimdLevel, Virt};
use vm_core::{Composition, Plugin, PluginError};
use wasmparser::{BinaryReader, FunctionBody};

pub use code::ModuleCode;
use translate::{Asm, FuncCompiler, ModuleEnv, Scratch, Sites};

/// What code generation depends on besides the module.
#[derive(Clone, Copy, Debug, Default)]
pub struct CompileOptions {
    /// Memory 0 sits in a reservation with guard pages (the `virt` plugin's
    /// `GUARD_PAGES` and `guard_pages()`): accesses with a static offset up to 2 GiB carry no bounds
    /// check and fault instead.
    pub guard_pages: bool,
    /// Fuel metering (see `vm_core::runtime::limits`).
    pub fuel: bool,
    /// Interruption checks at function entries and loop headers.
    pub interrupt: bool,
    /// Every call first reports its callee to the observers (`Event::WasmCall`).
    pub call_events: bool,
    /// The composition's simd level (`<C::Simd as Simd>::LEVEL` when
    /// `<C::Simd as Simd>::PRESENT`), or `None` when no simd plugin is composed:
    /// then every v128 value and operator is reported unsupported. See "simd128"
    /// in the crate docs for the encodings each level selects.
    pub simd: Option<SimdLevel>,
}

/// How v128 operators are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VecIsa {
    /// Legacy SSE encodings up to SSE4.1 (SSSE3's `pshufb`, `pabs*`,
    /// `pmaddubsw`, `pmulhrsw` included).
    Sse41,
    /// VEX encodings (AVX, and AVX2's broadcasts): three-operand forms.
    Avx2,
}

/// The host CPU features code generation may use, checked once per module.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Cpu {
    pub sse41: bool,
    pub sse42: bool,
    pub ssse3: bool,
    pub avx2: bool,
    /// BMI2's `rorx`: a rotate by a constant into another register.
    pub bmi2: bool,
}

impl Cpu {
    pub(crate) fn host() -> Self {
        use vm_core::runtime::cpu::has;
        Cpu {
            sse41: has("sse4.1"),
            sse42: has("sse4.2"),
            ssse3: has("ssse3"),
            avx2: has("avx") && has("avx2"),
            bmi2: has("bmi2"),
        }
    }

    /// The encoding of v128 operators at `level` on this CPU, or why there is none.
    pub(crate) fn vec_isa(self, level: SimdLevel) -> Result<VecIsa, String> {
        let sse = self.sse41 && self.ssse3;
        match level {
            SimdLevel::Avx2 if self.avx2 && sse => Ok(VecIsa::Avx2),
            SimdLevel::Avx2 => Err("engine-dynasm: simd level avx2 needs AVX2, which this CPU \
                 lacks (compose simd-sse41 or simd-scalar instead)"
                .into()),
            SimdLevel::Sse41 | SimdLevel::Scalar if sse => Ok(VecIsa::Sse41),
            SimdLevel::Sse41 | SimdLevel::Scalar => Err(format!(
                "engine-dynasm: simd level {} needs SSE4.1 and SSSE3 for v128 code, which \
                 this CPU lacks (engine-interp with simd-scalar runs simd128 anywhere)",
                level.name()
            )),
        }
    }
}

/// Compiles every defined function of `module` and an entry trampoline per
/// function type, and publishes the code.
///
/// # Errors
/// An operator this engine does not lower yet (`unsupported: ...`), a body that
/// cannot be read, an engine limit, or a failure to map the code.
pub fn compile_module(
    module: &ModuleInfo,
    options: CompileOptions,
) -> Result<ModuleCode, CompileError> {
    compile_for_cpu(module, options, Cpu::host())
}

/// [`compile_module`] for a host CPU with the features `cpu`.
pub(crate) fn compile_for_cpu(
    module: &ModuleInfo,
    options: CompileOptions,
    cpu: Cpu,
) -> Result<ModuleCode, CompileError> {
    ModuleCode::from_image(&image_for_cpu(module, options, cpu)?, module.num_imported_funcs)
}

/// The code [`compile_for_cpu`] publishes, as an image (position-independent: it
/// has no relocations).
pub(crate) fn image_for_cpu(
    module: &ModuleInfo,
    options: CompileOptions,
    cpu: Cpu,
) -> Result<CodeImage, CompileError> {
    // Room for the whole module's code up front (growing the buffer would copy
    // it each time): about 5 bytes of x86-64 per byte of wasm; and for its labels
    // and references to them, about one per eight bytes of wasm in the corpus.
    let wasm: usize = module.bodies.iter().map(|b| b.range.len()).sum();
    let labels = wasm / 4 + 2 * module.bodies.len() + 64;
    let mut ops = Asm::new_with_capacity(0, 8 * wasm + 4096, 0, 0, labels, 0, labels);
    let func_labels = (0..module.bodies.len()).map(|_| ops.new_dynamic_label()).collect();
    let throw_stub = ops.new_dynamic_label();
    let simd = options.simd.map(|level| cpu.vec_isa(level));
    let env = ModuleEnv {
        module,
        func_labels,
        guard_pages: options.guard_pages,
        memory: !module.memories.is_empty(),
        cpu,
        fuel: options.fuel,
        interrupt: options.interrupt,
        call_events: options.call_events,
        simd,
        index64: module.memories.iter().any(|m| m.index64)
            || module.tables.iter().any(|t| t.index64),
        throw_stub,
    };
    let mut sites = Sites::default();
    // One source location per operator, about one operator per two bytes.
    sites.srclocs.reserve(wasm / 2);
    let mut funcs: Vec<Range<u32>> = Vec::with_capacity(module.bodies.len());
    let mut scratch = Scratch::default();
    for (i, body) in module.bodies.iter().enumerate() {
        let bytes = module
            .bytes
            .get(body.range.clone())
            .ok_or(CompileError::Limit("function body range"))?;
        let fb = FunctionBody::new(BinaryReader::new(bytes, body.range.start as u64));
        ops.align(16, 0xcc);
        let start = ops.offset().0 as u32;
        ops.dynamic_label(env.func_labels[i]);
        FuncCompiler::compile(
            &mut ops,
            &env,
            &mut sites,
            &mut scratch,
            module.num_imported_funcs + i as u32,
            &fb,
        )?;
        funcs.push(start..ops.offset().0 as u32);
    }
    let mut entries = Vec::with_capacity(module.types.len());
    let mut host_calls = Vec::with_capacity(module.types.len());
    for ty in &module.types {
        ops.align(16, 0xcc);
        entries.push(ops.offset().0 as u32);
        trampoline::entry(&mut ops, ty);
        ops.align(16, 0xcc);
        host_calls.push(ops.offset().0 as u32);
        let pending = trampoline::host_call(&mut ops, ty, throw_stub) as u32;
        sites.traps.push(TrapSite { offset: pending, kind: TrapKind::Pending });
    }
    ops.align(16, 0xcc);
    ops.dynamic_label(throw_stub);
    let (stub, trap_at) = native::exn::throw_stub();
    sites.traps.push(TrapSite { offset: ops.offset().0 as u32 + trap_at, kind: TrapKind::Pending });
    ops.extend(stub);
    let mut bytes = ops.finalize().map_err(|e| CompileError::Body {
        offset: 0,
        message: format!("engine-dynasm: assembling failed: {e}"),
    })?;
    for &(end, value) in &sites.patches {
        bytes
            .get_mut(end - 4..end)
            .ok_or(CompileError::Limit("engine-dynasm: frame patch outside the code"))?
            .copy_from_slice(&value.to_le_bytes());
    }
    for range in &sites.nops {
        let code = bytes
            .get_mut(range.clone())
            .ok_or(CompileError::Limit("engine-dynasm: nop patch outside the code"))?;
        fill_nops(code);
    }
    let Sites { traps, srclocs, handlers, .. } = sites;
    Ok(CodeImage {
        code: bytes,
        funcs,
        entries,
        host_calls,
        traps,
        srclocs,
        handlers,
        ..CodeImage::default()
    })
}

/// Overwrites `code` with as few `nop` instructions as cover it (the
/// recommended multi-byte forms, up to 9 bytes each).
fn fill_nops(code: &mut [u8]) {
    const NOPS: [&[u8]; 9] = [
        &[0x90],
        &[0x66, 0x90],
        &[0x0f, 0x1f, 0x00],
        &[0x0f, 0x1f, 0x40, 0x00],
        &[0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
        &[0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    ];
    let mut rest = code;
    while !rest.is_empty() {
        let n = rest.len().min(NOPS.len());
        let (head, tail) = rest.split_at_mut(n);
        head.copy_from_slice(NOPS[n - 1]);
        rest = tail;
    }
}

/// Configuration of `engine-dynasm`.
#[derive(Debug, Clone, serde::Deserialize, vm_core::PluginConfig)]
#[serde(default, deny_unknown_fields)]
pub struct DynasmConfig {
    /// Fuel every new store starts with, one unit per wasm operator (0 = unmetered).
    #[config(default = 0, range = "0..")]
    pub fuel: u64,
    /// Wall-clock limit of one call from the host in milliseconds (0 = none).
    #[config(default = 0, range = "0..=86400000")]
    pub timeout_ms: u64,
    /// Emit interruption checks without a timeout (for interrupt handles).
    #[config(default = false)]
    pub interruptible: bool,
}

impl DynasmConfig {
    /// The execution limits this configuration compiles in.
    pub fn limits(&self) -> ExecLimits {
        ExecLimits {
            fuel: self.fuel,
            timeout_ms: self.timeout_ms,
            interruptible: self.interruptible,
        }
    }
}

/// The single-pass dynasm JIT engine.
#[vm_core::plugin(id = "engine-dynasm", slot = engine, provides = ["engine@1.0.0", "native-code@1.0.0"], requires = ["virt ^1"])]
pub struct Dynasm {
    config: DynasmConfig,
    /// vm-core's runtime functions as the `virt` plugin linked them, once per
    /// engine.
    libcalls: Option<Box<[usize]>>,
    /// The state of calls from the host, kept between calls (it is large).
    call_state: Option<Box<CallState>>,
    functions: u64,
    compile_time: Duration,
    code_bytes: u64,
    host_calls: u64,
    traps: u64,
}

impl Plugin for Dynasm {
    type Config = DynasmConfig;

    fn new(config: DynasmConfig) -> Result<Self, PluginError> {
        Ok(Self {
            config,
            libcalls: None,
            call_state: None,
            functions: 0,
            compile_time: Duration::ZERO,
            code_bytes: 0,
            host_calls: 0,
            traps: 0,
        })
    }

    fn stats(&self) -> PluginStats {
        let mut s = PluginStats::default();
        s.functions_compiled = self.functions;
        s.compile_time = self.compile_time;
        s.code_bytes = self.code_bytes;
        s.host_calls = self.host_calls;
        s.traps = self.traps;
        s
    }
}

impl Dynasm {
    fn compile_with(
        &mut self,
        module: &ModuleInfo,
        options: CompileOptions,
    ) -> Result<ModuleCode, CompileError> {
        let image = self.image_with(module, options)?;
        ModuleCode::from_image(&image, module.num_imported_funcs)
    }

    fn image_with(
        &mut self,
        module: &ModuleInfo,
        options: CompileOptions,
    ) -> Result<CodeImage, CompileError> {
        let t0 = Instant::now();
        let image = image_for_cpu(module, options, Cpu::host())?;
        self.functions += module.bodies.len() as u64;
        self.code_bytes += image.code.len() as u64;
        self.compile_time += t0.elapsed();
        Ok(image)
    }

    /// What code generation for composition `C` reads from it and the engine's
    /// configuration.
    fn options<C: Composition<Engine = Self>>(plugins: &C) -> CompileOptions {
        const {
            assert!(
                <C::Virt as Virt>::NATIVE_CODE,
                "engine-dynasm needs a virt plugin that runs native code (`Virt::NATIVE_CODE`)"
            );
        }
        let limits = plugins.engine().config.limits();
        CompileOptions {
            guard_pages: <C::Virt as Virt>::GUARD_PAGES && plugins.virt().guard_pages(),
            fuel: limits.metering(),
            interrupt: limits.interrupt_checks(),
            call_events: C::EVENTS.contains(EventKind::WasmCall),
            simd: <C::Simd as Simd>::PRESENT.then_some(<C::Simd as Simd>::LEVEL),
        }
    }

    /// The runtime functions of composition `C` as its `virt` plugin links them,
    /// linked on first use.
    ///
    /// # Errors
    /// The plugin returned a table of another length.
    fn linked<C: Composition<Engine = Self>>(plugins: &mut C) -> Result<&[usize], CompileError> {
        if plugins.engine().libcalls.is_none() {
            let linked = native::link_table(plugins.virt_mut(), &runtime_fns::table::<C>())?;
            plugins.engine_mut().libcalls = Some(linked);
        }
        Ok(plugins.engine().libcalls.as_deref().unwrap_or_default())
    }
}

impl Engine for Dynasm {
    const NATIVE_CODE: bool = true;
    const AOT: bool = true;
    const PROPOSALS: Features = Features::SIMD
        .union(Features::RELAXED_SIMD)
        .union(Features::EXTENDED_CONST)
        .union(Features::MULTI_MEMORY)
        .union(Features::MEMORY64)
        .union(Features::TAIL_CALL)
        .union(Features::FUNCTION_REFERENCES)
        .union(Features::EXCEPTIONS);
    type Code = ModuleCode;

    /// Compiles for code running in this process without guard pages and without
    /// simd128 (no composition says the simd level); [`Engine::compile_for`]
    /// compiles for a composition, its `virt` plugin and its `simd` plugin.
    fn compile(&mut self, module: &ModuleInfo) -> Result<ModuleCode, CompileError> {
        let limits = self.config.limits();
        let options = CompileOptions {
            guard_pages: false,
            fuel: limits.metering(),
            interrupt: limits.interrupt_checks(),
            call_events: false,
            simd: None,
        };
        self.compile_with(module, options)
    }

    fn compile_for<C: Composition<Engine = Self>>(
        plugins: &mut C,
        module: &ModuleInfo,
    ) -> Result<ModuleCode, CompileError> {
        // Linked before any code runs (the table's address goes to the store
        // context on every call from the host).
        Self::linked(plugins)?;
        let options = Self::options(plugins);
        let code = plugins.engine_mut().compile_with(module, options)?;
        // Compiled out unless a composed observer subscribes (a perf map writer).
        if C::EVENTS.contains(EventKind::CodeLoaded) {
            native::code_loaded(plugins, module, code.map());
        }
        Ok(code)
    }

    fn compile_image<C: Composition<Engine = Self>>(
        plugins: &mut C,
        module: &ModuleInfo,
    ) -> Result<CodeImage, CompileError> {
        let options = Self::options(plugins);
        plugins.engine_mut().image_with(module, options)
    }

    fn load_image<C: Composition<Engine = Self>>(
        plugins: &mut C,
        module: &ModuleInfo,
        image: &CodeImage,
    ) -> Result<ModuleCode, CompileError> {
        Self::linked(plugins)?;
        let code = ModuleCode::from_image(image, module.num_imported_funcs)?;
        if C::EVENTS.contains(EventKind::CodeLoaded) {
            native::code_loaded(plugins, module, code.map());
        }
        Ok(code)
    }

    fn aot_key<C: Composition<Engine = Self>>(
        plugins: &mut C,
    ) -> Result<Vec<(&'static str, String)>, CompileError> {
        let o = Self::options(plugins);
        let cpu = Cpu::host();
        Ok(vec![
            (
                "dynasm.codegen",
                format!(
                    "guard_pages={} fuel={} interrupt={} call_events={} simd={:?}",
                    o.guard_pages, o.fuel, o.interrupt, o.call_events, o.simd
                ),
            ),
            (
                "dynasm.cpu",
                format!(
                    "sse41={} sse42={} ssse3={} avx2={} bmi2={}",
                    cpu.sse41, cpu.sse42, cpu.ssse3, cpu.avx2, cpu.bmi2
                ),
            ),
        ])
    }

    fn native_entry(code: &ModuleCode, index: u32) -> *const u8 {
        code.function(index).unwrap_or(std::ptr::null())
    }

    fn host_entry(code: &ModuleCode, ty: u32) -> *const u8 {
        code.host_trampoline(ty).unwrap_or(std::ptr::null())
    }

    fn code_map(code: &ModuleCode) -> Option<&CodeMap> {
        Some(code.map())
    }

    fn exec_limits(&self) -> ExecLimits {
        self.config.limits()
    }

    fn call<C: Composition<Engine = Self>>(
        plugins: &mut C,
        store: &mut Store<C>,
        func: u32,
        args: &[Val],
        results: &mut Vec<Val>,
    ) -> Result<(), Trap> {
        native::call_from_host(plugins, store, func, args, results)
    }
}

impl NativeEngine for Dynasm {
    fn entry_trampoline(code: &ModuleCode, ty: u32) -> *const u8 {
        code.entry_trampoline(ty).unwrap_or(std::ptr::null())
    }

    fn linked_table<C: Composition<Engine = Self>>(
        plugins: &mut C,
    ) -> Result<*const usize, CompileError> {
        Ok(Self::linked(plugins)?.as_ptr())
    }

    fn call_state(&mut self) -> &mut Option<Box<CallState>> {
        &mut self.call_state
    }

    fn count_call(&mut self, host_calls: u64, trapped: bool) {
        self.host_calls += host_calls;
        self.traps += u64::from(trapped);
    }
}

#[cfg(test)]
mod tests;
