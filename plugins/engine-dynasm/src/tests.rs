//! Real wasm through the compiler: wat → `ModuleInfo` → [`compile_module`] → run
//! through the module's entry trampoline in this process, against a hand-built
//! `VMContext`. Traps run in a forked child whose signal handler reports the
//! faulting pc (tests only: the engine itself never handles signals); the parent
//! looks the pc up in the module's `CodeMap`.

use std::sync::atomic::{AtomicI32, Ordering};

use vm_core::runtime::module::DataMode;
use vm_core::runtime::native::TrapKind;
use vm_core::runtime::offsets::{VMContext, VMGlobal, VMMemoryDefinition, VMStoreContext};
use vm_core::runtime::{CompileError, Features, ModuleInfo, TrapCode, Val};

use crate::{CompileOptions, ModuleCode, compile_module};

type Trampoline = unsafe extern "sysv64" fn(*mut VMContext, *mut VMContext, *const u8, *mut u128);

mod float;
mod locals;
mod simd;
mod spec;

/// One instance of a compiled module: memory 0 of its initial size (64 KiB when it
/// has none) with its active data segments, and its globals initialized.
struct Instance {
    module: ModuleInfo,
    code: ModuleCode,
    _mem: Vec<u8>,
    _memdef: Box<VMMemoryDefinition>,
    _store: Box<VMStoreContext>,
    _globals: Box<[VMGlobal]>,
    _global_ptrs: Box<[*mut VMGlobal]>,
    vmctx: Box<VMContext>,
}

impl Instance {
    fn new(wat: &str) -> Self {
        Self::with(wat, CompileOptions::default(), None)
    }

    /// `memory`: a base and length to use instead of a fresh 64 KiB vector.
    fn with(wat: &str, options: CompileOptions, memory: Option<(*mut u8, usize)>) -> Self {
        let module = ModuleInfo::decode(wat.as_bytes(), Features::default()).expect("valid");
        Self::from_info(module, options, memory, &[]).expect("compiles and instantiates")
    }

    /// Compiles and instantiates `module`, whose only imports may be globals (with
    /// the raw values `imported`).
    fn from_info(
        module: ModuleInfo,
        options: CompileOptions,
        memory: Option<(*mut u8, usize)>,
        imported: &[u64],
    ) -> Result<Self, String> {
        let code = compile_module(&module, options).map_err(|e| e.to_string())?;
        let pages = module.memories.first().map_or(1, |m| m.min as usize);
        let mut mem = vec![0u8; pages << 16];
        let mut globals: Box<[VMGlobal]> =
            vec![VMGlobal::default(); module.globals.len().max(8)].into();
        for (g, &v) in globals.iter_mut().zip(imported) {
            g.lo = v;
        }
        let first = module.num_imported_globals as usize;
        for (j, init) in module.global_inits.iter().enumerate() {
            let v = init.eval(|g| Val::I64(globals[g as usize].lo as i64), |_| Val::FuncRef(None));
            let bits = spec::raw128(v);
            globals[first + j].lo = bits as u64;
            globals[first + j].hi = (bits >> 64) as u64;
        }
        for d in &module.datas {
            if let DataMode::Active { offset, .. } = &d.mode {
                let at = spec::raw(offset.eval(|_| Val::I32(0), |_| Val::FuncRef(None)));
                let bytes = &module.bytes[d.range.clone()];
                mem.get_mut(at as usize..at as usize + bytes.len())
                    .ok_or("data segment out of bounds")?
                    .copy_from_slice(bytes);
            }
        }
        let (base, length) = memory.unwrap_or((mem.as_mut_ptr(), mem.len()));
        let mut memdef = Box::new(VMMemoryDefinition { base, length });
        let mut store = Box::new(VMStoreContext::default());
        let mut global_ptrs: Box<[*mut VMGlobal]> =
            globals.iter_mut().map(|g| g as *mut VMGlobal).collect();
        let vmctx = Box::new(VMContext {
            memory0: &mut *memdef,
            memories: std::ptr::null(),
            tables: std::ptr::null(),
            globals: global_ptrs.as_mut_ptr(),
            funcs: std::ptr::null(),
            sigs: std::ptr::null(),
            store: &mut *store,
            state: std::ptr::null_mut(),
            instance: std::ptr::null_mut(),
        });
        Ok(Self {
            module,
            code,
            _mem: mem,
            _memdef: memdef,
            _store: store,
            _globals: globals,
            _global_ptrs: global_ptrs,
            vmctx,
        })
    }

    fn func(&self, name: &str) -> u32 {
        match self.module.exports.get(name) {
            Some(vm_core::runtime::module::ExportKind::Func(f)) => *f,
            _ => panic!("no function export {name}"),
        }
    }

    /// Calls export `name` with raw 64-bit arguments; returns the raw results.
    fn call(&mut self, name: &str, args: &[i64]) -> Vec<i64> {
        let args: Vec<u128> = args.iter().map(|&a| u128::from(a as u64)).collect();
        self.call128(name, &args).into_iter().map(|r| r as u64 as i64).collect()
    }

    /// Calls export `name` with raw 128-bit arguments (a scalar in the low bits);
    /// returns the raw 128-bit result slots.
    fn call128(&mut self, name: &str, args: &[u128]) -> Vec<u128> {
        let f = self.func(name);
        let ty = self.module.func_type(f).expect("type");
        let (n, m) = (ty.params().len(), ty.results().len());
        assert_eq!(n, args.len(), "argument count of {name}");
        let mut buf = vec![0u128; n.max(m).max(1)];
        buf[..n].copy_from_slice(args);
        let tramp = self.code.entry_trampoline(self.module.funcs[f as usize]).expect("trampoline");
        let code = self.code.function(f).expect("defined");
        let vmctx: *mut VMContext = &mut *self.vmctx;
        // SAFETY: `tramp` is the entry trampoline of `f`'s type in published code,
        // `code` is `f`, `vmctx` a context whose memory, globals and store context
        // outlive the call, and `buf` has a slot per parameter and result.
        unsafe {
            let tramp: Trampoline = std::mem::transmute(tramp);
            tramp(vmctx, vmctx, code, buf.as_mut_ptr());
        }
        let mut results = buf;
        results.truncate(m);
        // Scalars own only the low 64 bits of their slot.
        for (r, t) in results.iter_mut().zip(ty.results()) {
            if *t != vm_core::runtime::ValType::V128 {
                *r = u128::from(*r as u64);
            }
        }
        results
    }

    fn i32(&mut self, name: &str, args: &[i64]) -> i32 {
        self.call(name, args)[0] as i32
    }

    fn i64(&mut self, name: &str, args: &[i64]) -> i64 {
        self.call(name, args)[0]
    }

    /// Runs export `name` in a forked child, expecting it to trap; returns the
    /// faulting pc the child's signal handler saw.
    fn trap_pc(&mut self, name: &str, args: &[i64]) -> usize {
        let args: Vec<u128> = args.iter().map(|&a| u128::from(a as u64)).collect();
        self.trap_pc128(name, &args)
    }

    /// [`Self::trap_pc`] with raw 128-bit arguments.
    fn trap_pc128(&mut self, name: &str, args: &[u128]) -> usize {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: the child only runs generated code and async-signal-safe calls
        // (sigaction, write, _exit) before it exits.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork");
        if pid == 0 {
            PIPE.store(fds[1], Ordering::Relaxed);
            // SAFETY: installing a handler in the single-threaded child.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = report_pc as Handler as usize;
                sa.sa_flags = libc::SA_SIGINFO;
                for sig in [libc::SIGILL, libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE] {
                    libc::sigaction(sig, &sa, std::ptr::null_mut());
                }
            }
            self.call128(name, args);
            // SAFETY: returned without trapping: report pc 0 and leave.
            unsafe {
                let zero = 0usize;
                libc::write(fds[1], (&raw const zero).cast(), 8);
                libc::_exit(1);
            }
        }
        let mut pc = [0u8; 8];
        // SAFETY: reading 8 bytes into `pc`; closing our copy of the write end first.
        unsafe {
            libc::close(fds[1]);
            assert_eq!(libc::read(fds[0], pc.as_mut_ptr().cast(), 8), 8, "child reported");
            libc::close(fds[0]);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
        usize::from_le_bytes(pc)
    }

    /// Asserts that export `name` traps with `code` at a trap site of its own code.
    fn assert_trap(&mut self, name: &str, args: &[i64], code: TrapCode) {
        let pc = self.trap_pc(name, args);
        assert_ne!(pc, 0, "{name} returned instead of trapping");
        let map = self.code.map();
        assert_eq!(map.trap_at(pc), Some(TrapKind::Wasm(code)), "{name}: trap site at {pc:#x}");
        assert_eq!(map.func_at(pc), Some(self.func(name)), "{name}: trapping function");
        assert!(map.wasm_offset(pc).is_some(), "{name}: wasm offset of the trap");
    }
}

type Handler = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void);

static PIPE: AtomicI32 = AtomicI32::new(-1);

/// The child's signal handler: writes the faulting pc to the pipe and exits.
extern "C" fn report_pc(_sig: libc::c_int, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a `ucontext_t` to an SA_SIGINFO handler.
    let pc = unsafe { (*ctx.cast::<libc::ucontext_t>()).uc_mcontext.gregs[libc::REG_RIP as usize] }
        as usize;
    // SAFETY: write and _exit are async-signal-safe.
    unsafe {
        libc::write(PIPE.load(Ordering::Relaxed), (&raw const pc).cast(), 8);
        libc::_exit(0);
    }
}

#[test]
fn integer_arithmetic() {
    let mut i = Instance::new(
        r#"(module
          (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
          (func (export "poly") (param i64) (result i64)
            ;; 3x^2 - 5x + 7
            local.get 0 local.get 0 i64.mul i64.const 3 i64.mul
            local.get 0 i64.const 5 i64.mul i64.sub i64.const 7 i64.add)
          (func (export "folded") (result i32) i32.const 40 i32.const 2 i32.add i32.const 3 i32.mul)
          (func (export "bits") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.and local.get 0 local.get 1 i32.xor i32.or
            i32.const 0xff i32.xor)
          (func (export "shl") (param i32 i32) (result i32) local.get 0 local.get 1 i32.shl)
          (func (export "shr_s") (param i64 i64) (result i64) local.get 0 local.get 1 i64.shr_s)
          (func (export "shr_u7") (param i32) (result i32) local.get 0 i32.const 39 i32.shr_u)
          (func (export "rotl") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rotl)
          (func (export "lt_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.lt_s)
          (func (export "lt_u") (param i32 i32) (result i32) local.get 0 local.get 1 i32.lt_u)
          (func (export "ge_u64") (param i64 i64) (result i32) local.get 0 local.get 1 i64.ge_u)
          (func (export "eqz") (param i64) (result i32) local.get 0 i64.eqz)
          (func (export "clz") (param i32) (result i32) local.get 0 i32.clz)
          (func (export "ctz64") (param i64) (result i64) local.get 0 i64.ctz)
          (func (export "popcnt") (param i32) (result i32) local.get 0 i32.popcnt)
          (func (export "div_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
          (func (export "rem_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_s)
          (func (export "div_u64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.div_u)
          (func (export "rem_u") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_u)
          (func (export "ext8") (param i32) (result i32) local.get 0 i32.extend8_s)
          (func (export "ext_s") (param i32) (result i64) local.get 0 i64.extend_i32_s)
          (func (export "ext_u") (param i32) (result i64) local.get 0 i64.extend_i32_u)
          (func (export "wrap") (param i64) (result i32) local.get 0 i32.wrap_i64)
          (func (export "select") (param i32 i32 i32) (result i32)
            local.get 0 local.get 1 local.get 2 select)
          (func (export "tee") (param i32) (result i32) (local i32)
            local.get 0 i32.const 1 i32.add local.tee 1 local.get 1 i32.mul)
        )"#,
    );
    assert_eq!(i.i32("add", &[2, 40]), 42);
    assert_eq!(i.i32("add", &[i64::from(i32::MAX), 1]), i32::MIN);
    assert_eq!(i.i64("poly", &[10]), 257);
    assert_eq!(i.i64("poly", &[-3]), 49);
    assert_eq!(i.i32("folded", &[]), 126);
    assert_eq!(i.i32("bits", &[0b1100, 0b1010]), (0b1000 | 0b0110) ^ 0xff);
    assert_eq!(i.i32("shl", &[1, 33]), 2, "count masked to 5 bits");
    assert_eq!(i.i64("shr_s", &[-64, 3]), -8);
    assert_eq!(i.i32("shr_u7", &[-1]), (u32::MAX >> 7) as i32);
    assert_eq!(i.i32("rotl", &[0x8000_0001u32 as i64, 1]), 3);
    assert_eq!(i.i32("lt_s", &[-1, 0]), 1);
    assert_eq!(i.i32("lt_u", &[-1, 0]), 0);
    assert_eq!(i.i32("ge_u64", &[5, 5]), 1);
    assert_eq!(i.i32("eqz", &[0]), 1);
    assert_eq!(i.i32("eqz", &[1 << 40]), 0);
    assert_eq!(i.i32("clz", &[1]), 31);
    assert_eq!(i.i32("clz", &[0]), 32);
    assert_eq!(i.i64("ctz64", &[0]), 64);
    assert_eq!(i.i64("ctz64", &[1 << 40]), 40);
    if std::arch::is_x86_feature_detected!("popcnt") {
        assert_eq!(i.i32("popcnt", &[0xf0f0]), 8);
    }
    assert_eq!(i.i32("div_s", &[-7, 2]), -3);
    assert_eq!(i.i32("rem_s", &[-7, 2]), -1);
    assert_eq!(i.i32("rem_s", &[i64::from(i32::MIN), -1]), 0, "MIN % -1 is 0, not a fault");
    assert_eq!(i.i64("div_u64", &[-1, 2]), i64::MAX);
    assert_eq!(i.i32("rem_u", &[-1, 10]), (u32::MAX % 10) as i32);
    assert_eq!(i.i32("ext8", &[0x80]), -128);
    assert_eq!(i.i64("ext_s", &[-5]), -5);
    assert_eq!(i.i64("ext_u", &[-5]), i64::from(-5i32 as u32));
    assert_eq!(i.i32("wrap", &[0x1_0000_0007]), 7);
    assert_eq!(i.i32("select", &[1, 2, 1]), 1);
    assert_eq!(i.i32("select", &[1, 2, 0]), 2);
    assert_eq!(i.i32("tee", &[6]), 49);
}

#[test]
fn many_live_values_spill_and_reload() {
    // 20 values live at once: more than the 12 allocatable registers.
    let mut body = String::new();
    for k in 0..20 {
        body.push_str(&format!("local.get 0 i64.const {k} i64.add "));
    }
    for _ in 0..19 {
        body.push_str("i64.add ");
    }
    let wat = format!(r#"(module (func (export "f") (param i64) (result i64) {body}))"#);
    let mut i = Instance::new(&wat);
    assert_eq!(i.i64("f", &[100]), 20 * 100 + (0..20).sum::<i64>());
}

#[test]
fn nested_blocks_with_results() {
    let mut i = Instance::new(
        r#"(module
          (func (export "nest") (param i32) (result i32)
            (block (result i32)
              (block (result i32)
                (block (result i32)
                  i32.const 1
                  local.get 0 i32.eqz br_if 2
                  drop i32.const 2
                  local.get 0 i32.const 1 i32.eq br_if 1
                  drop i32.const 3)
                i32.const 10 i32.add)
              i32.const 100 i32.add))
          (func (export "if") (param i32) (result i32)
            i32.const 7
            (if (result i32) (local.get 0) (then i32.const 1) (else i32.const 2))
            i32.add)
          (func (export "if_no_else") (param i32) (result i32) (local i32)
            (if (local.get 0) (then i32.const 5 local.set 1))
            local.get 1)
        )"#,
    );
    assert_eq!(i.i32("nest", &[0]), 1);
    assert_eq!(i.i32("nest", &[1]), 102);
    assert_eq!(i.i32("nest", &[2]), 113);
    assert_eq!(i.i32("if", &[1]), 8);
    assert_eq!(i.i32("if", &[0]), 9);
    assert_eq!(i.i32("if_no_else", &[1]), 5);
    assert_eq!(i.i32("if_no_else", &[0]), 0);
}

#[test]
fn loops_factorial_and_fibonacci() {
    let mut i = Instance::new(
        r#"(module
          (func (export "fact") (param i64) (result i64) (local i64)
            i64.const 1 local.set 1
            (block (loop
              local.get 0 i64.eqz br_if 1
              local.get 1 local.get 0 i64.mul local.set 1
              local.get 0 i64.const 1 i64.sub local.set 0
              br 0))
            local.get 1)
          (func (export "fib") (param i32) (result i64) (local i64 i64)
            i64.const 1 local.set 2
            (block (loop
              local.get 0 i32.eqz br_if 1
              local.get 1 local.get 2 i64.add
              local.get 2 local.set 1 local.set 2
              local.get 0 i32.const 1 i32.sub local.set 0
              br 0))
            local.get 1)
          (func $fibr (export "fib_rec") (param i32) (result i32)
            local.get 0 i32.const 2 i32.lt_u
            (if (result i32) (then local.get 0)
              (else local.get 0 i32.const 1 i32.sub call $fibr
                    local.get 0 i32.const 2 i32.sub call $fibr i32.add)))
          ;; A loop with a parameter: sum 1..n with the accumulator on the stack.
          (func (export "sum") (param i32) (result i32)
            i32.const 0
            (loop (param i32) (result i32)
              local.get 0 i32.add
              local.get 0 i32.const 1 i32.sub local.tee 0
              br_if 0))
        )"#,
    );
    assert_eq!(i.i64("fact", &[20]), 2_432_902_008_176_640_000);
    assert_eq!(i.i64("fib", &[90]), 2_880_067_194_370_816_120);
    assert_eq!(i.i32("fib_rec", &[20]), 6765);
    assert_eq!(i.i32("sum", &[100]), 5050);
}

#[test]
fn br_table_with_many_targets_and_stack_results() {
    // 64 nested blocks; case k returns 1000 + k. The value is carried on the stack
    // past an extra value, so every branch moves it.
    let n = 64;
    let mut wat = String::from(r#"(module (func (export "sw") (param i32) (result i32)"#);
    wat.push_str("(block $out (result i32)");
    for k in (0..n).rev() {
        wat.push_str(&format!("(block $b{k} (result i32)"));
    }
    wat.push_str("i32.const 77 i32.const 1000 local.get 0 br_table");
    for k in 0..n {
        wat.push_str(&format!(" $b{k}"));
    }
    wat.push_str(" $out");
    for k in 0..n {
        wat.push_str(&format!(") i32.const {k} i32.add br $out"));
    }
    wat.push_str(")))");
    let mut i = Instance::new(&wat);
    for k in 0..n {
        assert_eq!(i.i32("sw", &[k]), 1000 + k as i32, "case {k}");
    }
    assert_eq!(i.i32("sw", &[n]), 1000, "default");
    assert_eq!(i.i32("sw", &[-1]), 1000, "index is unsigned");
}

#[test]
fn multi_value_blocks_and_calls() {
    let mut i = Instance::new(
        r#"(module
          (func $swap (param i32 i32) (result i32 i32) local.get 1 local.get 0)
          (func $three (result i64 i64 i64) i64.const 1 i64.const 2 i64.const 3)
          (func (export "swap_sub") (param i32 i32) (result i32)
            local.get 0 local.get 1 call $swap i32.sub)
          (func (export "three") (result i64 i64 i64) call $three)
          (func (export "block_pair") (param i32) (result i32)
            (block (result i32 i32)
              i32.const 3 i32.const 4
              local.get 0 br_if 0
              drop drop i32.const 10 i32.const 20)
            i32.mul)
          (func (export "block_params") (param i32) (result i32)
            i32.const 6 i32.const 7
            (block (param i32 i32) (result i32)
              i32.mul
              local.get 0 br_if 0
              i32.const 2 i32.mul))
          (func (export "if_pair") (param i32) (result i32 i32)
            (if (result i32 i32) (local.get 0)
              (then i32.const 1 i32.const 2)
              (else i32.const 3 i32.const 4)))
        )"#,
    );
    assert_eq!(i.i32("swap_sub", &[10, 3]), -7);
    assert_eq!(i.call("three", &[]), vec![1, 2, 3]);
    assert_eq!(i.i32("block_pair", &[1]), 12);
    assert_eq!(i.i32("block_pair", &[0]), 200);
    assert_eq!(i.i32("block_params", &[1]), 42);
    assert_eq!(i.i32("block_params", &[0]), 84);
    assert_eq!(i.call("if_pair", &[1]), vec![1, 2]);
    assert_eq!(i.call("if_pair", &[0]), vec![3, 4]);
}

#[test]
fn calls_keep_caller_values() {
    let mut i = Instance::new(
        r#"(module
          (func $sq (param i64) (result i64) local.get 0 local.get 0 i64.mul)
          (func $noop)
          (func (export "f") (param i64) (result i64)
            local.get 0 i64.const 1 i64.add
            local.get 0 call $sq
            call $noop
            i64.const 2 call $sq
            i64.add i64.add)
          (func $deep (param i32) (result i32)
            local.get 0 i32.eqz (if (result i32) (then i32.const 0)
              (else local.get 0 i32.const 1 i32.sub call $deep i32.const 1 i32.add)))
          (func (export "deep") (param i32) (result i32) local.get 0 call $deep)
        )"#,
    );
    assert_eq!(i.i64("f", &[5]), 6 + 25 + 4);
    assert_eq!(i.i32("deep", &[1000]), 1000);
}

#[test]
fn memory_loads_and_stores() {
    let mut i = Instance::new(
        r#"(module (memory 1)
          (func (export "rw") (param i32 i64) (result i64)
            local.get 0 local.get 1 i64.store offset=8
            local.get 0 i64.load offset=8)
          (func (export "narrow") (result i32)
            i32.const 100 i32.const 0x1ff i32.store8
            i32.const 100 i32.load8_u
            i32.const 104 i32.const -2 i32.store16
            i32.const 104 i32.load16_s
            i32.add)
          (func (export "sx") (result i64)
            i32.const 200 i32.const -1 i32.store
            i32.const 200 i64.load32_s
            i32.const 200 i64.load32_u i64.add)
          (func (export "size") (result i32) memory.size)
          (func (export "last") (result i32)
            i32.const 65532 i32.const 0x01020304 i32.store
            i32.const 65532 i32.load)
          (func (export "oob") (param i32) (result i32) local.get 0 i32.load offset=4)
          (func (export "oob_store") (param i32) local.get 0 i64.const 1 i64.store)
        )"#,
    );
    assert_eq!(i.i64("rw", &[16, 0x1122_3344_5566_7788]), 0x1122_3344_5566_7788);
    assert_eq!(i.i32("narrow", &[]), 0xff - 2);
    assert_eq!(i.i64("sx", &[]), -1 + i64::from(u32::MAX));
    assert_eq!(i.i32("size", &[]), 1);
    assert_eq!(i.i32("last", &[]), 0x01020304);
    assert_eq!(i.i32("oob", &[65528]), 0x01020304, "last in-bounds word");
    i.assert_trap("oob", &[65529], TrapCode::MemoryOutOfBounds);
    i.assert_trap("oob", &[-1], TrapCode::MemoryOutOfBounds);
    i.assert_trap("oob_store", &[65530], TrapCode::MemoryOutOfBounds);
}

#[test]
fn memory_base_is_loaded_only_by_functions_that_need_it() {
    let module = ModuleInfo::decode(
        br#"(module (memory 1)
          (func $leaf (export "leaf") (param i32) (result i32)
            local.get 0 i32.const 1 i32.add)
          (func (export "load") (param i32) (result i32)
            local.get 0 call $leaf i32.load)
          (func (export "grow") (result i32)
            i32.const 1 memory.grow drop
            i32.const 0 call $leaf))"#,
        Features::default(),
    )
    .expect("valid");
    let code = compile_module(&module, CompileOptions::default()).expect("compiles");
    // `mov r14, [r15 + 0]; mov r14, [r14 + 0]` (memory0 and base both at offset 0).
    let load: &[u8] = &[0x4d, 0x8b, 0x37, 0x4d, 0x8b, 0x36];
    assert_eq!(vm_core::runtime::offsets::VMCTX_MEMORY0, 0);
    assert_eq!(vm_core::runtime::offsets::MEMORY_BASE, 0);
    // SAFETY: the module's code mapping is readable for its whole length.
    let bytes = unsafe { std::slice::from_raw_parts(code.base(), code.code_bytes()) };
    let at = |f: u32| code.function(f).map(|p| p as usize - code.base() as usize);
    let loads = |f: u32| {
        let (start, end) = (at(f).expect("defined"), at(f + 1).unwrap_or(bytes.len()));
        bytes[start..end].windows(load.len()).filter(|w| *w == load).count()
    };
    assert_eq!(loads(0), 0, "a function without memory accesses or calls gets nops");
    assert_eq!(loads(1), 1, "the prologue; no reload after a direct call");
    assert_eq!(loads(2), 2, "the prologue and after the memory.grow runtime call");
    let mut i = Instance::new(
        r#"(module (memory 1)
          (func $leaf (param i32) (result i32) local.get 0 i32.const 4 i32.add)
          (func (export "load") (param i32) (result i32)
            i32.const 8 i32.const 77 i32.store
            local.get 0 call $leaf i32.load))"#,
    );
    assert_eq!(i.i32("load", &[4]), 77);
}

#[test]
fn guard_pages_make_the_access_the_trap_site() {
    // A 8 GiB reservation, first 64 KiB accessible: what a guard-page `virt`
    // plugin gives memory 0.
    let len = 8usize << 30;
    // SAFETY: a fresh private anonymous reservation; nothing else is affected.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    assert_ne!(base, libc::MAP_FAILED);
    // SAFETY: the first 64 KiB of our own reservation.
    assert_eq!(unsafe { libc::mprotect(base, 65536, libc::PROT_READ | libc::PROT_WRITE) }, 0);
    let wat = r#"(module (memory 1)
        (func (export "get") (param i32) (result i32) local.get 0 i32.load offset=16)
        (func (export "put") (param i32 i32) local.get 0 local.get 1 i32.store))"#;
    let mut i = Instance::with(
        wat,
        CompileOptions { guard_pages: true, ..CompileOptions::default() },
        Some((base.cast(), 65536)),
    );
    i.call("put", &[400, 99]);
    assert_eq!(i.i32("get", &[384]), 99);
    i.assert_trap("get", &[65536], TrapCode::MemoryOutOfBounds);
    i.assert_trap("get", &[-1], TrapCode::MemoryOutOfBounds);
    i.assert_trap("put", &[65534, 1], TrapCode::MemoryOutOfBounds);
    drop(i);
    // SAFETY: the reservation is ours and no code uses it any more.
    unsafe { libc::munmap(base, len) };
}

#[test]
fn traps_are_recorded_trap_sites() {
    let mut i = Instance::new(
        r#"(module
          (func (export "unreachable") unreachable)
          (func (export "div0") (param i32) (result i32) i32.const 1 local.get 0 i32.div_u)
          (func (export "rem0") (param i64) (result i64) i64.const 1 local.get 0 i64.rem_s)
          (func (export "overflow") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
          (func $inf (export "recurse") (param i32) (result i32)
            local.get 0 i32.const 1 i32.add call $inf)
        )"#,
    );
    i.assert_trap("unreachable", &[], TrapCode::Unreachable);
    i.assert_trap("div0", &[0], TrapCode::IntegerDivisionByZero);
    i.assert_trap("rem0", &[0], TrapCode::IntegerDivisionByZero);
    i.assert_trap("overflow", &[i64::from(i32::MIN), -1], TrapCode::IntegerOverflow);
    assert_eq!(i.i32("overflow", &[i64::from(i32::MIN), 1]), i32::MIN);
    // The prologue's stack check against the store context's limit: 256 KiB below
    // the current stack pointer.
    let here = &i as *const _ as usize;
    i._store.stack_limit = here - (256 << 10);
    i.assert_trap("recurse", &[0], TrapCode::StackOverflow);
}

#[test]
fn globals_read_and_write() {
    let mut i = Instance::new(
        r#"(module (global $g (mut i64) (i64.const 0))
          (func (export "bump") (param i64) (result i64)
            global.get $g local.get 0 i64.add global.set $g global.get $g))"#,
    );
    assert_eq!(i.i64("bump", &[5]), 5);
    assert_eq!(i.i64("bump", &[-7]), -2);
}

#[test]
fn simd_without_a_simd_plugin_is_reported_unsupported() {
    let wat = r#"(module (func (result i32) v128.const i64x2 0 0 i32x4.extract_lane 0))"#;
    let module = ModuleInfo::decode(wat.as_bytes(), Features::SIMD).unwrap();
    let err = compile_module(&module, CompileOptions::default()).unwrap_err();
    assert!(matches!(err, CompileError::Unsupported { op: "V128Const", .. }), "{err}");
    assert!(err.to_string().starts_with("unsupported: V128Const (feature simd)"), "{err}");
    let wat = r#"(module (func (param v128)))"#;
    let module = ModuleInfo::decode(wat.as_bytes(), Features::SIMD).unwrap();
    let err = compile_module(&module, CompileOptions::default()).unwrap_err();
    assert!(err.to_string().starts_with("unsupported: v128 value (feature simd)"), "{err}");
}

#[test]
fn division_and_shifts_under_register_pressure() {
    // rax, rdx and rcx are all holding live values when the division and the
    // variable shift need them.
    let mut body = String::new();
    for k in 1..=14 {
        body.push_str(&format!("local.get 0 i64.const {k} i64.add "));
    }
    body.push_str("local.get 0 i64.const 3 i64.div_s ");
    body.push_str("local.get 1 i64.shl ");
    for _ in 0..14 {
        body.push_str("i64.add ");
    }
    let wat = format!(r#"(module (func (export "f") (param i64 i64) (result i64) {body}))"#);
    let mut i = Instance::new(&wat);
    let (x, s) = (100i64, 2i64);
    let expect = (1..=14).map(|k| x + k).sum::<i64>() + ((x / 3) << s);
    assert_eq!(i.i64("f", &[x, s]), expect);
}

/// Compile time stays linear on inputs that are pathological for single-pass
/// designs; each compiles well under a second even unoptimized.
#[test]
fn pathological_inputs_compile_in_linear_time() {
    let time = |wat: &str| {
        let module = ModuleInfo::decode(wat.as_bytes(), Features::default()).expect("valid");
        let t0 = std::time::Instant::now();
        let code = compile_module(&module, CompileOptions::default()).expect("compiles");
        drop(code);
        (t0.elapsed(), ())
    };
    // A 100,000-entry br_table.
    let mut targets = String::new();
    for k in 0..100_000 {
        targets.push_str(if k % 2 == 0 { " 0" } else { " 1" });
    }
    let wat = format!(
        r#"(module (func (export "f") (param i32) (result i32)
            (block (block local.get 0 br_table{targets} 0) i32.const 1 return) i32.const 2))"#
    );
    let (t, _) = time(&wat);
    assert!(t.as_secs_f64() < 2.0, "100,000-entry br_table took {t:?}");
    let mut i = Instance::new(&wat);
    assert_eq!(i.i32("f", &[0]), 1);
    assert_eq!(i.i32("f", &[99_999]), 2);
    assert_eq!(i.i32("f", &[200_000]), 1, "default (depth 0)");
    // 50,000 locals.
    let wat = format!(
        r#"(module (func (export "f") (result i64) (local{})
            i64.const 5 local.set 49999 local.get 49999 local.get 1 i64.add))"#,
        " i64".repeat(50_000)
    );
    let (t, _) = time(&wat);
    assert!(t.as_secs_f64() < 2.0, "50,000 locals took {t:?}");
    assert_eq!(Instance::new(&wat).i64("f", &[]), 5);
    // 10,000 nested blocks, and 10,000 live values on the stack.
    let wat = format!(
        r#"(module (func (export "f") (result i32) {} i32.const 7 {}))"#,
        "block (result i32) ".repeat(10_000),
        "end ".repeat(10_000)
    );
    let (t, _) = time(&wat);
    assert!(t.as_secs_f64() < 2.0, "10,000-deep nesting took {t:?}");
    assert_eq!(Instance::new(&wat).i32("f", &[]), 7);
    let wat = format!(
        r#"(module (func (export "f") (param i32) (result i32) {} {}))"#,
        "local.get 0 ".repeat(10_000),
        "i32.add ".repeat(9_999)
    );
    let (t, _) = time(&wat);
    assert!(t.as_secs_f64() < 2.0, "10,000 live values took {t:?}");
    assert_eq!(Instance::new(&wat).i32("f", &[3]), 30_000);
}

/// Compile throughput on a generated integer module (about 1 MB of code section);
/// run with `cargo test --release -p vm-engine-dynasm -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn compile_throughput() {
    let mut wat = String::from("(module (memory 1)\n");
    for f in 0..2000 {
        wat.push_str(&format!(
            "(func $f{f} (param i32 i64) (result i64) (local i32 i64)\n\
             (block (loop\n"
        ));
        for k in 0..12 {
            wat.push_str(&format!(
                "local.get 0 i32.const {k} i32.add local.tee 2 i32.const 1023 i32.and \
                 i64.load offset=8 local.get 1 i64.xor i64.const {k} i64.mul local.set 3 \
                 local.get 2 i32.const 2040 i32.and local.get 3 i64.const 3 i64.shr_u i64.store \
                 local.get 3 local.get 1 i64.add local.set 1\n"
            ));
        }
        wat.push_str(
            "local.get 0 i32.const 1 i32.sub local.tee 0 i32.eqz br_if 1 br 0))\n\
             local.get 1 local.get 2 i32.const 7 i32.rem_u i64.extend_i32_u i64.add",
        );
        if f > 0 {
            wat.push_str(&format!(" local.get 0 local.get 1 call $f{} i64.add", f - 1));
        }
        wat.push_str(")\n");
    }
    wat.push(')');
    let module = ModuleInfo::decode(wat.as_bytes(), Features::default()).expect("valid");
    let code_bytes: usize = module.bodies.iter().map(|b| b.range.len()).sum();
    let mut best = f64::MAX;
    let mut out = 0;
    for _ in 0..5 {
        let t0 = std::time::Instant::now();
        let code = compile_module(&module, CompileOptions::default()).expect("compiles");
        best = best.min(t0.elapsed().as_secs_f64());
        out = code.code_bytes();
    }
    println!(
        "{} functions, {code_bytes} bytes of wasm bodies -> {out} bytes of x86-64 in {:.2} ms: \
         {:.1} MB/s",
        module.bodies.len(),
        best * 1e3,
        code_bytes as f64 / best / 1e6
    );
}

#[test]
fn code_after_branches_is_skipped_and_joins_stay_consistent() {
    let mut i = Instance::new(
        r#"(module
          (func (export "f") (param i32) (result i32)
            (block (result i32)
              (block
                local.get 0 br_if 0
                i32.const 10 br 1
                ;; dead code, including nested blocks and a dead else
                (block (result i32) i32.const 1 i32.const 0 (if (then unreachable) (else nop)))
                drop i32.const 2 i32.div_s drop)
              i32.const 20)
            return
            i32.const 99)
          (func (export "g") (param i32) (result i32)
            (if (result i32) (local.get 0) (then i32.const 1 return) (else i32.const 2))
            i32.const 40 i32.add)
        )"#,
    );
    assert_eq!(i.i32("f", &[0]), 10);
    assert_eq!(i.i32("f", &[1]), 20);
    assert_eq!(i.i32("g", &[1]), 1);
    assert_eq!(i.i32("g", &[0]), 42);
}

/// A comparison followed by `br_if` or `if` branches on the flags (no 0/1 value
/// in between): every integer condition, `eqz`, ordered float comparisons with
/// NaN, and a `br_if` that carries a value past others.
#[test]
fn comparisons_branch_on_flags() {
    let mut ops = String::new();
    for (k, op) in ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"]
        .iter()
        .enumerate()
    {
        ops.push_str(&format!(
            "(func (export \"{op}\") (param i32 i32) (result i32)
               (block (br_if 0 (i32.{op} (local.get 0) (local.get 1))) (return (i32.const 0)))
               (if (result i32) (i64.{op} (i64.extend_i32_s (local.get 0)) (i64.extend_i32_s (local.get 1)))
                 (then (i32.const {k1})) (else (i32.const 100))))\n",
            k1 = k + 1
        ));
    }
    let wat = format!(
        r#"(module {ops}
          (func (export "flt") (param f64 f64) (result i32)
            (block (br_if 0 (f64.lt (local.get 0) (local.get 1))) (return (i32.const 0)))
            (if (result i32) (f32.ge (f32.demote_f64 (local.get 1)) (f32.demote_f64 (local.get 0)))
              (then (i32.const 1)) (else (i32.const 2))))
          (func (export "carry") (param i32) (result i32)
            i32.const 5
            (block (result i32)
              i32.const 7 i32.const 8 i32.const 9
              local.get 0 i32.eqz br_if 0
              drop drop)
            i32.add))"#
    );
    let mut i = Instance::new(&wat);
    type Case = (&'static str, fn(i32, i32) -> bool);
    let cases: [Case; 10] = [
        ("eq", |a, b| a == b),
        ("ne", |a, b| a != b),
        ("lt_s", |a, b| a < b),
        ("lt_u", |a, b| (a as u32) < (b as u32)),
        ("gt_s", |a, b| a > b),
        ("gt_u", |a, b| (a as u32) > (b as u32)),
        ("le_s", |a, b| a <= b),
        ("le_u", |a, b| (a as u32) <= (b as u32)),
        ("ge_s", |a, b| a >= b),
        ("ge_u", |a, b| (a as u32) >= (b as u32)),
    ];
    for (k, (op, f)) in cases.iter().enumerate() {
        for (a, b) in [(1, 2), (2, 1), (3, 3), (-1, 1), (1, -1)] {
            let want = if f(a, b) { k as i32 + 1 } else { 0 };
            assert_eq!(i.i32(op, &[i64::from(a), i64::from(b)]), want, "{op} {a} {b}");
        }
    }
    let f = |x: f64| x.to_bits() as i64;
    assert_eq!(i.i32("flt", &[f(1.0), f(2.0)]), 1);
    assert_eq!(i.i32("flt", &[f(2.0), f(1.0)]), 0);
    assert_eq!(i.i32("flt", &[f(f64::NAN), f(1.0)]), 0);
    assert_eq!(i.i32("flt", &[f(1.0), f(f64::NAN)]), 0);
    assert_eq!(i.i32("carry", &[0]), 5 + 9);
    assert_eq!(i.i32("carry", &[1]), 5 + 7);
}

/// An operator whose result goes straight to the register local it reads is
/// computed in that register; an older copy of the local on the stack keeps its
/// value.
#[test]
fn in_place_updates_of_register_locals() {
    let mut i = Instance::new(
        r#"(module
          (func (export "f") (param i32 i32) (result i32)
            local.get 0                        ;; old value of 0, kept
            local.get 0 i32.const 3 i32.add local.set 0
            local.get 1 local.get 0 i32.mul local.set 0   ;; commutative, local second
            local.get 0 local.get 0 i32.sub local.tee 1    ;; 0
            local.get 0 i32.add
            i32.add))"#,
    );
    // old 2; 0 = 2 + 3 = 5; 0 = 4 * 5 = 20; 1 = 0; 0 + 20; + 2
    assert_eq!(i.i32("f", &[2, 4]), 22);
}

#[test]
fn limit_and_event_code_only_when_configured() {
    let wat = r#"(module
      (func $f (export "f") (param i32) (result i32)
        (loop $l (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
        (call $f (i32.const 0))))"#;
    let module = ModuleInfo::decode(wat.as_bytes(), Features::default()).expect("valid");
    let bytes = |options| compile_module(&module, options).expect("compiles").code_bytes();
    let off = bytes(CompileOptions::default());
    assert_eq!(off, bytes(CompileOptions::default()), "deterministic");
    for (what, options) in [
        ("fuel", CompileOptions { fuel: true, ..Default::default() }),
        ("interrupt", CompileOptions { interrupt: true, ..Default::default() }),
        ("call_events", CompileOptions { call_events: true, ..Default::default() }),
    ] {
        assert!(bytes(options) > off, "{what} adds code");
    }
}
