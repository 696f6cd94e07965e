//! Isolation under `virt-kvm`, tested rather than claimed: deliberately wrong machine
//! code runs inside a store's micro-VM (through the plugin's test hook
//! `KvmStore::run_raw`, beside a live instance) and tries to read a host secret,
//! write host memory and memory outside linear memory, run the heap or linear
//! memory, and write its own code and the runtime's read-only data. Each attempt
//! ends in a fault of the guest, never in the secret or in changed host memory, and
//! the instance keeps working afterwards.

#![cfg(all(feature = "engine-cranelift", feature = "virt-kvm"))]

use std::sync::atomic::{AtomicU64, Ordering};

use vm::runtime::{Linker, RunContext, Val};
use vm::vm_virt_kvm::{ExecMemory, Exit, Fault};
use vm::{Settings, Vm};

use crate::engines::{CraneliftKvmVm, kvm_ready};

/// A host variable the guest must never read.
static SECRET: AtomicU64 = AtomicU64::new(0x5ec2_e75e_c2e7_5ec2);

const MODULE: &str = r#"(module
  (memory (export "mem") 1 2)
  (global $g (export "g") (mut i32) (i32.const 5))
  (func (export "ok") (result i32) (i32.add (global.get $g) (i32.const 2)))
  (func (export "poke") (param i32 i32) (i32.store (local.get 0) (local.get 1))))"#;

/// `movabs rax, imm64`.
fn mov_rax(code: &mut Vec<u8>, imm: u64) {
    code.extend([0x48, 0xb8]);
    code.extend(imm.to_le_bytes());
}

/// Code that loads 8 bytes from `addr` into `rax` and returns.
fn load(addr: u64) -> Vec<u8> {
    let mut c = Vec::new();
    mov_rax(&mut c, addr);
    c.extend([0x48, 0x8b, 0x00, 0xc3]); // mov rax, [rax]; ret
    c
}

/// Code that stores `0x41` as 8 bytes at `addr` and returns.
fn store(addr: u64) -> Vec<u8> {
    let mut c = Vec::new();
    mov_rax(&mut c, addr);
    c.extend([0x48, 0xc7, 0x00, 0x41, 0, 0, 0, 0xc3]); // mov qword [rax], 0x41; ret
    c
}

/// Code that jumps to `addr`.
fn jump(addr: u64) -> Vec<u8> {
    let mut c = Vec::new();
    mov_rax(&mut c, addr);
    c.extend([0xff, 0xe0]); // jmp rax
    c
}

struct Guest {
    vm: Vm<CraneliftKvmVm, vm::compose::lifecycle::Running>,
    linker: Linker<CraneliftKvmVm>,
    inst: vm::runtime::Instance,
    /// Keeps the code pages of the attempts mapped as long as the store.
    code: Vec<ExecMemory>,
}

impl Guest {
    fn new() -> Self {
        let mut vm =
            Vm::<CraneliftKvmVm>::new(&Settings::new()).unwrap().init().unwrap().start().unwrap();
        let module = vm.compile(MODULE).unwrap();
        let mut linker = Linker::new(RunContext::default());
        let inst = vm.instantiate(&module, &mut linker).unwrap();
        Guest { vm, linker, inst, code: Vec::new() }
    }

    /// Runs `code` in the store's micro-VM.
    fn run(&mut self, code: &[u8]) -> Exit {
        let mem = ExecMemory::new(code).unwrap();
        let state = self.linker.store().virt_state();
        // SAFETY: `mem` is kept in `self.code`, which lives as long as the store.
        unsafe { state.map_code(mem.addr() as usize, mem.len() as usize).unwrap() };
        let exit = state.run_raw(mem.addr() as usize, [0; 6]).unwrap();
        self.code.push(mem);
        exit
    }

    /// The instance still runs wasm correctly.
    fn still_works(&mut self) {
        let r = self.vm.invoke(&mut self.linker, self.inst, "ok", &[]).unwrap();
        assert_eq!(r, vec![Val::I32(7)]);
    }

    fn memory(&self) -> (u64, u64) {
        let m = self.vm.memory(&self.linker, self.inst, "mem").unwrap();
        (m.as_ptr() as u64, m.len() as u64)
    }
}

fn fault(exit: Exit, what: &str) -> Fault {
    match exit {
        Exit::Fault(f) => f,
        other => panic!("{what}: expected a fault, got {other:?}"),
    }
}

#[test]
fn wrong_machine_code_cannot_reach_the_host() {
    if let Err(why) = kvm_ready() {
        println!("skipped: {why}");
        return;
    }
    let mut g = Guest::new();
    let secret_addr = SECRET.as_ptr() as u64;

    // A load from the address of a host variable holding a secret: a page fault at
    // that address; the secret never reaches the guest.
    let f = fault(g.run(&load(secret_addr)), "read the secret");
    assert_eq!((f.vector, f.cr2), (14, secret_addr), "{f:?}");
    g.still_works();

    // A store to host heap memory: a fault, and the host value is unchanged.
    let host = Box::new(AtomicU64::new(7));
    let f = fault(g.run(&store(host.as_ptr() as u64)), "write the host heap");
    assert_eq!((f.vector, f.cr2), (14, host.as_ptr() as u64), "{f:?}");
    assert_eq!(host.load(Ordering::SeqCst), 7);
    g.still_works();

    // A store just past linear memory (inside its reservation, not committed) and
    // one into its guard region: faults; the committed memory is untouched.
    let (base, len) = g.memory();
    for addr in [base + len, base + (4 << 30) + 4096] {
        let f = fault(g.run(&store(addr)), "write outside linear memory");
        assert_eq!((f.vector, f.cr2), (14, addr), "{f:?}");
    }
    // A store inside linear memory is allowed (it is the guest's).
    assert!(matches!(g.run(&store(base + 8)), Exit::Returned { .. }));
    g.still_works();

    // A jump into the host heap (bytes that would return) and into linear memory
    // (writable, so never executable): instruction-fetch faults.
    let heap = Box::new([0xc3u8; 64]);
    let f = fault(g.run(&jump(heap.as_ptr() as u64)), "run the host heap");
    assert_eq!((f.vector, f.rip), (14, heap.as_ptr() as u64), "{f:?}");
    g.vm.invoke(&mut g.linker, g.inst, "poke", &[Val::I32(64), Val::I32(0xc3)]).unwrap();
    let f = fault(g.run(&jump(base + 64)), "run linear memory");
    assert_eq!((f.vector, f.rip), (14, base + 64), "{f:?}");
    assert_ne!(f.error_code & 0x11, 0, "an instruction fetch from a present page: {f:?}");
    g.still_works();

    // Writes to code (read + execute) and to the runtime's read-only data (the
    // instance context): protection faults.
    let mut c = Vec::new();
    c.extend([0x48, 0x8d, 0x05, 0, 0, 0, 0]); // lea rax, [rip]
    c.extend([0xc6, 0x00, 0xcc, 0xc3]); // mov byte [rax], 0xcc; ret
    let f = fault(g.run(&c), "write own code");
    assert_eq!(f.vector, 14, "{f:?}");
    assert_ne!(f.error_code & 0x3, 0, "a write to a present page: {f:?}");
    let vmctx = g.linker.store().instance(g.inst).unwrap().vmctx_ptr() as u64;
    let f = fault(g.run(&store(vmctx)), "write the instance context");
    assert_eq!((f.vector, f.cr2), (14, vmctx), "{f:?}");
    g.still_works();
    assert_eq!(SECRET.load(Ordering::SeqCst), 0x5ec2_e75e_c2e7_5ec2);
}
