//! Runs hand-assembled x86-64 code in real KVM micro-VMs.
//!
//! Each test skips (with a message) when `/dev/kvm` is absent or unusable,
//! except under `CI`, where an existing but unusable `/dev/kvm` fails it.

use std::time::Duration;

use vm_virt_kvm::{
    ExecMemory, Exit, Fault, HostCall, HostReturn, Pool, Prot, Sandbox, SandboxConfig, call_sysv,
    host_call_stub,
};

fn pool() -> Option<Pool> {
    if !std::path::Path::new("/dev/kvm").exists() {
        eprintln!("skipped: /dev/kvm is absent");
        return None;
    }
    match Pool::new(SandboxConfig::default(), 1, 4) {
        Ok(p) => Some(p),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("/dev/kvm exists but is unusable under CI: {e}")
        }
        Err(e) => {
            eprintln!("skipped: /dev/kvm is unusable: {e}");
            None
        }
    }
}

/// Registers `code` read+exec with `sb`.
fn map_code(sb: &mut Sandbox, code: &ExecMemory) {
    // SAFETY: every test keeps its code alive until the sandbox is dropped or
    // released.
    unsafe { sb.map(code.addr(), code.len(), Prot::ReadExec) }.unwrap();
}

/// Page-aligned read-write host memory.
struct Data {
    ptr: *mut u8,
    len: usize,
}

impl Data {
    fn new(len: usize) -> Data {
        // SAFETY: anonymous mapping.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(ptr, libc::MAP_FAILED);
        Data { ptr: ptr.cast(), len }
    }

    fn addr(&self) -> u64 {
        self.ptr as u64
    }

    fn set_u64(&self, off: usize, v: u64) {
        assert!(off + 8 <= self.len);
        // SAFETY: in bounds of our mapping.
        unsafe { self.ptr.add(off).cast::<u64>().write_unaligned(v) }
    }

    fn get_u64(&self, off: usize) -> u64 {
        assert!(off + 8 <= self.len);
        // SAFETY: in bounds of our mapping.
        unsafe { self.ptr.add(off).cast::<u64>().read_unaligned() }
    }
}

impl Drop for Data {
    fn drop(&mut self) {
        // SAFETY: our mapping.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

fn movabs_rax(c: &mut Vec<u8>, v: u64) {
    c.extend([0x48, 0xb8]);
    c.extend(v.to_le_bytes());
}

fn call_rax(c: &mut Vec<u8>) {
    c.extend([0xff, 0xd0]);
}

fn stubs(ids: &[u32]) -> ExecMemory {
    let mut all = Vec::new();
    for id in ids {
        all.extend(host_call_stub(*id).unwrap());
    }
    ExecMemory::new(&all).unwrap()
}

fn stub_addr(s: &ExecMemory, i: usize) -> u64 {
    s.addr() + (i * vm_virt_kvm::HOST_CALL_STUB_LEN) as u64
}

fn returned(e: Exit) -> u64 {
    match e {
        Exit::Returned { rax, .. } => rax,
        other => panic!("expected a return, got {other:?}"),
    }
}

fn fault(e: Exit) -> Fault {
    match e {
        Exit::Fault(f) => f,
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[test]
fn returns_a_value() {
    let Some(pool) = pool() else { return };
    let mut sb = pool.acquire().unwrap();
    // lea rax, [rdi + rsi]; ret
    let code = ExecMemory::new(&[0x48, 0x8d, 0x04, 0x37, 0xc3]).unwrap();
    map_code(&mut sb, &code);
    assert_eq!(returned(sb.call(code.addr(), [40, 2, 0, 0, 0, 0]).unwrap()), 42);
    assert_eq!(returned(sb.call(code.addr(), [1, 2, 0, 0, 0, 0]).unwrap()), 3);
}

extern "sysv64" fn mix(
    a: u64,
    b: u64,
    c: u64,
    d: u64,
    e: u64,
    f: u64,
    x: f64,
    y: f64,
    z: f64,
    w: f64,
) -> f64 {
    (a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f) as f64 + x * y + z - w
}

extern "sysv64" fn sum6(a: u64, b: u64, c: u64, d: u64, e: u64, f: u64) -> u64 {
    a + b + c + d + e + f
}

/// Guest code that loads four floats into xmm0..xmm3 and calls `stub` with
/// its own integer arguments, returning what the stub returns.
fn float_caller(stub: u64, floats: [f64; 4]) -> Vec<u8> {
    let mut c = vec![0x48, 0x83, 0xec, 0x08]; // sub rsp, 8
    for (i, f) in floats.iter().enumerate() {
        movabs_rax(&mut c, f.to_bits());
        c.extend([0x66, 0x48, 0x0f, 0x6e, 0xc0 | ((i as u8) << 3)]); // movq xmmI, rax
    }
    movabs_rax(&mut c, stub);
    call_rax(&mut c);
    c.extend([0x48, 0x83, 0xc4, 0x08, 0xc3]); // add rsp, 8; ret
    c
}

#[test]
fn host_call_round_trips_integer_and_float_arguments() {
    let Some(pool) = pool() else { return };
    let mut sb = pool.acquire().unwrap();
    let s = stubs(&[7, 8]);
    map_code(&mut sb, &s);
    let floats = [1.5, 4.0, 0.25, -8.0];
    let code = ExecMemory::new(&float_caller(stub_addr(&s, 0), floats)).unwrap();
    map_code(&mut sb, &code);
    let args = [1, 2, 3, 4, 5, 6];
    let call = match sb.call(code.addr(), args).unwrap() {
        Exit::HostCall(c) => c,
        other => panic!("expected a host call, got {other:?}"),
    };
    assert_eq!(call.id, 7);
    assert_eq!(call.args, args);
    let got: Vec<f64> = call.xmm.iter().map(|x| f64::from_bits(*x as u64)).collect();
    assert_eq!(got, floats);
    // SAFETY: `mix` takes six integers and four doubles.
    let ret = unsafe { call_sysv(mix as *const () as usize, &call) };
    let want = mix(1, 2, 3, 4, 5, 6, 1.5, 4.0, 0.25, -8.0);
    match sb.resume(ret).unwrap() {
        Exit::Returned { xmm0, .. } => assert_eq!(f64::from_bits(xmm0 as u64), want),
        other => panic!("expected a return, got {other:?}"),
    }

    // An integer host function through the second stub, called directly.
    let call = match sb.call(stub_addr(&s, 1), [10, 20, 30, 40, 50, 60]).unwrap() {
        Exit::HostCall(c) => c,
        other => panic!("expected a host call, got {other:?}"),
    };
    assert_eq!(call.id, 8);
    // SAFETY: `sum6` takes six integers.
    let ret = unsafe { call_sysv(sum6 as *const () as usize, &call) };
    assert_eq!(returned(sb.resume(ret).unwrap()), 210);
    assert!(sb.resume(HostReturn::default()).is_err(), "nothing is pending");
}

#[test]
fn nested_host_call_runs_guest_code_and_resumes_the_outer_call() {
    let Some(pool) = pool() else { return };
    let mut sb = pool.acquire().unwrap();
    let s = stubs(&[1, 2]);
    map_code(&mut sb, &s);
    // B(x): sub rsp,8; imul rdi,rdi,10; call stub 2; add rsp,8; ret
    let mut b = vec![0x48, 0x83, 0xec, 0x08, 0x48, 0x6b, 0xff, 0x0a];
    movabs_rax(&mut b, stub_addr(&s, 1));
    call_rax(&mut b);
    b.extend([0x48, 0x83, 0xc4, 0x08, 0xc3]);
    // A(x): push rbx; mov ebx,1000; call stub 1; add rax,rbx; pop rbx; ret
    let mut a = vec![0x53, 0xbb, 0xe8, 0x03, 0x00, 0x00];
    movabs_rax(&mut a, stub_addr(&s, 0));
    call_rax(&mut a);
    a.extend([0x48, 0x01, 0xd8, 0x5b, 0xc3]);
    let (a, b) = (ExecMemory::new(&a).unwrap(), ExecMemory::new(&b).unwrap());
    map_code(&mut sb, &a);
    map_code(&mut sb, &b);

    let outer = sb.call(a.addr(), [7, 0, 0, 0, 0, 0]).unwrap();
    let Exit::HostCall(HostCall { id: 1, args, .. }) = outer else {
        panic!("expected host call 1, got {outer:?}")
    };
    // The host function calls back into the guest.
    let mut inner = sb.call(b.addr(), [args[0], 0, 0, 0, 0, 0]).unwrap();
    let inner_result = loop {
        match inner {
            Exit::HostCall(c) => {
                assert_eq!(c.id, 2);
                inner = sb.resume(HostReturn { rax: c.args[0] + 5, ..Default::default() }).unwrap();
            }
            other => break returned(other),
        }
    };
    assert_eq!(inner_result, 75);
    let done = sb.resume(HostReturn { rax: inner_result + 1, ..Default::default() }).unwrap();
    assert_eq!(returned(done), 1076);
}

#[test]
fn guard_region_page_fault_reports_cr2_and_growth_maps_more() {
    let Some(pool) = pool() else { return };
    let mut sb = pool.acquire().unwrap();
    let mem = Data::new(16 * 4096);
    // A reservation: 4 accessible pages, the rest guard.
    // SAFETY: `mem` outlives the sandbox.
    unsafe { sb.map(mem.addr(), 16 * 4096, Prot::None) }.unwrap();
    sb.protect(mem.addr(), 4 * 4096, Prot::ReadWrite).unwrap();
    mem.set_u64(3 * 4096, 0xfeed);
    // mov rax, [rdi]; ret
    let load = ExecMemory::new(&[0x48, 0x8b, 0x07, 0xc3]).unwrap();
    map_code(&mut sb, &load);
    assert_eq!(
        returned(sb.call(load.addr(), [mem.addr() + 3 * 4096, 0, 0, 0, 0, 0]).unwrap()),
        0xfeed
    );
    let guard = mem.addr() + 5 * 4096 + 8;
    let f = fault(sb.call(load.addr(), [guard, 0, 0, 0, 0, 0]).unwrap());
    assert_eq!((f.vector, f.cr2, f.rip), (14, guard, load.addr()));
    assert_eq!(f.error_code & 1, 0, "not-present fault");

    // memory.grow: two more pages.
    sb.protect(mem.addr() + 4 * 4096, 4 * 4096, Prot::ReadWrite).unwrap();
    mem.set_u64(5 * 4096 + 8, 0xbeef);
    assert_eq!(returned(sb.call(load.addr(), [guard, 0, 0, 0, 0, 0]).unwrap()), 0xbeef);

    // Closing them again really closes them (KVM's shadow is dropped).
    sb.protect(mem.addr() + 4 * 4096, 4 * 4096, Prot::None).unwrap();
    let f = fault(sb.call(load.addr(), [guard, 0, 0, 0, 0, 0]).unwrap());
    assert_eq!((f.vector, f.cr2), (14, guard));
    drop(sb);
}

#[test]
fn stack_overflow_hits_the_guard_page() {
    let Some(pool) = pool() else { return };
    let mut sb = pool.acquire().unwrap();
    // f: push rbp; call f
    let code = ExecMemory::new(&[0x55, 0xe8, 0xfa, 0xff, 0xff, 0xff]).unwrap();
    map_code(&mut sb, &code);
    let (lo, _) = sb.stack();
    let f = fault(sb.call(code.addr(), [0; 6]).unwrap());
    assert_eq!(f.vector, 14);
    assert!(f.cr2 < lo && f.cr2 >= lo - 4096, "cr2 {:#x} in the guard below {lo:#x}", f.cr2);
    // The sandbox still works after a fault.
    let ret = ExecMemory::new(&[0x48, 0x89, 0xf8, 0xc3]).unwrap(); // mov rax, rdi; ret
    map_code(&mut sb, &ret);
    assert_eq!(returned(sb.call(ret.addr(), [9, 0, 0, 0, 0, 0]).unwrap()), 9);
}

#[test]
fn write_to_read_only_page_faults() {
    let Some(pool) = pool() else { return };
    let mut sb = pool.acquire().unwrap();
    let mem = Data::new(4096);
    // SAFETY: `mem` outlives the sandbox.
    unsafe { sb.map(mem.addr(), 4096, Prot::Read) }.unwrap();
    // mov [rdi], rsi; ret
    let store = ExecMemory::new(&[0x48, 0x89, 0x37, 0xc3]).unwrap();
    map_code(&mut sb, &store);
    let f = fault(sb.call(store.addr(), [mem.addr() + 16, 5, 0, 0, 0, 0]).unwrap());
    assert_eq!((f.vector, f.cr2), (14, mem.addr() + 16));
    assert_eq!(f.error_code & 0x3, 0x3, "present + write");
    assert_eq!(mem.get_u64(16), 0);
    drop(sb);
}

#[test]
fn executing_a_non_executable_page_faults() {
    let Some(pool) = pool() else { return };
    let mut sb = pool.acquire().unwrap();
    let mem = Data::new(4096);
    mem.set_u64(0, 0xc3); // ret
    // SAFETY: `mem` outlives the sandbox.
    unsafe { sb.map(mem.addr(), 4096, Prot::ReadWrite) }.unwrap();
    let f = fault(sb.call(mem.addr(), [0; 6]).unwrap());
    assert_eq!((f.vector, f.rip, f.cr2), (14, mem.addr(), mem.addr()));
    assert_eq!(f.error_code & 0x10, 0x10, "instruction fetch");
    drop(sb);
}

#[test]
fn ud2_is_invalid_opcode() {
    let Some(pool) = pool() else { return };
    let mut sb = pool.acquire().unwrap();
    // nop; ud2
    let code = ExecMemory::new(&[0x90, 0x0f, 0x0b]).unwrap();
    map_code(&mut sb, &code);
    let f = fault(sb.call(code.addr(), [0; 6]).unwrap());
    assert_eq!((f.vector, f.rip), (6, code.addr() + 1));
}

#[test]
fn sse41_and_avx2_run() {
    let Some(pool) = pool() else { return };
    if !is_x86_feature_detected!("avx2") || !is_x86_feature_detected!("sse4.1") {
        eprintln!("skipped: the host has no AVX2");
        return;
    }
    let mut sb = pool.acquire().unwrap();
    let mem = Data::new(4096);
    for i in 0..8 {
        mem.set_u64(8 * i, (i as u64 + 1) * 0x1_0000_0001); // x: 8 lanes of i32
        mem.set_u64(64 + 8 * i, 3 * 0x1_0000_0001); // y: all 3
    }
    // SAFETY: `mem` outlives the sandbox.
    unsafe { sb.map(mem.addr(), 4096, Prot::ReadWrite) }.unwrap();
    let code = ExecMemory::new(&[
        0xc5, 0xfe, 0x6f, 0x07, // vmovdqu ymm0, [rdi]
        0xc5, 0xfd, 0xfe, 0x06, // vpaddd ymm0, ymm0, [rsi]
        0xc5, 0xfe, 0x7f, 0x02, // vmovdqu [rdx], ymm0
        0xc5, 0xf8, 0x77, // vzeroupper
        0xf3, 0x0f, 0x6f, 0x0f, // movdqu xmm1, [rdi]
        0x66, 0x0f, 0x38, 0x40, 0x0e, // pmulld xmm1, [rsi]
        0xf3, 0x0f, 0x7f, 0x4a, 0x20, // movdqu [rdx + 32], xmm1
        0xc3,
    ])
    .unwrap();
    map_code(&mut sb, &code);
    let (x, y, out) = (mem.addr(), mem.addr() + 64, mem.addr() + 128);
    returned(sb.call(code.addr(), [x, y, out, 0, 0, 0]).unwrap());
    // Lane pair i of x holds i + 1 twice; every lane of y holds 3.
    for i in 0..4 {
        let v = mem.get_u64(128 + 8 * i);
        assert_eq!(v, (i as u64 + 4) * 0x1_0000_0001, "vpaddd lane pair {i}");
    }
    for i in 0..2 {
        let v = mem.get_u64(160 + 8 * i);
        assert_eq!(v, 3 * (i as u64 + 1) * 0x1_0000_0001, "pmulld lane pair {i}");
    }
    drop(sb);
}

#[test]
fn guest_cannot_read_unregistered_host_memory() {
    let Some(pool) = pool() else { return };
    let mut sb = pool.acquire().unwrap();
    let secret = Box::new(0x005e_c2e7_u64);
    let addr = &*secret as *const u64 as u64;
    // mov rax, [rdi]; ret
    let load = ExecMemory::new(&[0x48, 0x8b, 0x07, 0xc3]).unwrap();
    map_code(&mut sb, &load);
    let f = fault(sb.call(load.addr(), [addr, 0, 0, 0, 0, 0]).unwrap());
    assert_eq!((f.vector, f.cr2), (14, addr));
    // Nor the crate's own descriptor tables or fault handlers (supervisor pages).
    let w = vm_virt_kvm::window().unwrap();
    for off in [0x2000, 0x3000, 0x7000] {
        let f = fault(sb.call(load.addr(), [w + off, 0, 0, 0, 0, 0]).unwrap());
        assert_eq!((f.vector, f.cr2), (14, w + off));
    }
}

#[test]
fn interrupt_from_another_thread_ends_an_endless_loop() {
    let Some(pool) = pool() else { return };
    let mut sb = pool.acquire().unwrap();
    let spin = ExecMemory::new(&[0xeb, 0xfe]).unwrap(); // jmp $
    map_code(&mut sb, &spin);
    let kick = sb.interrupter();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        kick.interrupt();
    });
    assert_eq!(sb.call(spin.addr(), [0; 6]).unwrap(), Exit::Interrupted);
    t.join().unwrap();
    // Still usable, and the old request does not leak into the next call.
    let ret = ExecMemory::new(&[0x48, 0x89, 0xf8, 0xc3]).unwrap();
    map_code(&mut sb, &ret);
    assert_eq!(returned(sb.call(ret.addr(), [5, 0, 0, 0, 0, 0]).unwrap()), 5);
}

#[test]
fn unmapped_region_is_gone() {
    let Some(pool) = pool() else { return };
    let mut sb = pool.acquire().unwrap();
    let mem = Data::new(4096);
    mem.set_u64(0, 11);
    // SAFETY: `mem` outlives the sandbox.
    unsafe { sb.map(mem.addr(), 4096, Prot::Read) }.unwrap();
    let load = ExecMemory::new(&[0x48, 0x8b, 0x07, 0xc3]).unwrap();
    map_code(&mut sb, &load);
    assert_eq!(returned(sb.call(load.addr(), [mem.addr(), 0, 0, 0, 0, 0]).unwrap()), 11);
    sb.unmap(mem.addr()).unwrap();
    let f = fault(sb.call(load.addr(), [mem.addr(), 0, 0, 0, 0, 0]).unwrap());
    assert_eq!((f.vector, f.cr2), (14, mem.addr()));
}

#[test]
fn pool_reuse_does_not_leak_the_previous_users_memory() {
    let Some(pool) = pool() else { return };
    let load = ExecMemory::new(&[0x48, 0x8b, 0x07, 0xc3]).unwrap();
    let mem = Data::new(4096);
    mem.set_u64(0, 0x5ec);
    let mut sb = pool.acquire().unwrap();
    let sb_id = sb.stack();
    map_code(&mut sb, &load);
    // SAFETY: `mem` outlives the sandbox.
    unsafe { sb.map(mem.addr(), 4096, Prot::ReadWrite) }.unwrap();
    assert_eq!(returned(sb.call(load.addr(), [mem.addr(), 0, 0, 0, 0, 0]).unwrap()), 0x5ec);
    // Leave a secret on the guest stack: mov rax, imm; push rax; pop rax; ret
    let mut c = Vec::new();
    movabs_rax(&mut c, 0x5ec2e7);
    c.extend([0x50, 0x58, 0xc3]);
    let push = ExecMemory::new(&c).unwrap();
    map_code(&mut sb, &push);
    returned(sb.call(push.addr(), [0; 6]).unwrap());
    pool.release(sb);

    let mut sb = pool.acquire().unwrap();
    assert_eq!(sb.stack(), sb_id, "the pool handed out the same sandbox");
    // Code of the previous user is not mapped either.
    let f = fault(sb.call(load.addr(), [mem.addr(), 0, 0, 0, 0, 0]).unwrap());
    assert_eq!((f.vector, f.cr2), (14, load.addr()));
    map_code(&mut sb, &load);
    let f = fault(sb.call(load.addr(), [mem.addr(), 0, 0, 0, 0, 0]).unwrap());
    assert_eq!((f.vector, f.cr2), (14, mem.addr()));
    // A new user mapping exactly the same range gets it back (the reset kept the
    // memory slot, so no ioctl), with the protection it asks for.
    // SAFETY: `mem` outlives the sandbox.
    unsafe { sb.map(mem.addr(), 4096, Prot::Read) }.unwrap();
    assert_eq!(returned(sb.call(load.addr(), [mem.addr(), 0, 0, 0, 0, 0]).unwrap()), 0x5ec);
    let store = ExecMemory::new(&[0x48, 0x89, 0x37, 0xc3]).unwrap(); // mov [rdi], rsi; ret
    map_code(&mut sb, &store);
    let f = fault(sb.call(store.addr(), [mem.addr(), 1, 0, 0, 0, 0]).unwrap());
    assert_eq!((f.vector, f.cr2), (14, mem.addr()), "read-only now");
    assert_eq!(mem.get_u64(0), 0x5ec);
    // The stack slot the previous user wrote reads as zero: mov rax, [rsp - 8]; ret
    let peek = ExecMemory::new(&[0x48, 0x8b, 0x44, 0x24, 0xf8, 0xc3]).unwrap();
    map_code(&mut sb, &peek);
    assert_eq!(returned(sb.call(peek.addr(), [0; 6]).unwrap()), 0);
    pool.release(sb);
}

#[test]
fn closing_one_page_inside_a_large_page_splits_it() {
    let Some(pool) = pool() else { return };
    let mut sb = pool.acquire().unwrap();
    // 2 MiB aligned, 2 MiB long: mapped with one large page.
    let raw = Data::new(6 << 20);
    let base = raw.addr().next_multiple_of(2 << 20);
    let off = (base - raw.addr()) as usize;
    raw.set_u64(off + 0x1000, 1);
    raw.set_u64(off + 0x3000, 3);
    // SAFETY: `raw` outlives the sandbox.
    unsafe { sb.map(base, 2 << 20, Prot::ReadWrite) }.unwrap();
    let load = ExecMemory::new(&[0x48, 0x8b, 0x07, 0xc3]).unwrap();
    map_code(&mut sb, &load);
    assert_eq!(returned(sb.call(load.addr(), [base + 0x3000, 0, 0, 0, 0, 0]).unwrap()), 3);
    sb.protect(base + 0x3000, 0x1000, Prot::None).unwrap();
    let f = fault(sb.call(load.addr(), [base + 0x3000, 0, 0, 0, 0, 0]).unwrap());
    assert_eq!((f.vector, f.cr2), (14, base + 0x3000));
    // The rest of the large page is still there.
    assert_eq!(returned(sb.call(load.addr(), [base + 0x1000, 0, 0, 0, 0, 0]).unwrap()), 1);
    drop(sb);
}

#[test]
fn sandboxes_move_between_threads_and_pools_are_shared() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Sandbox>();
    sync::<Pool>();
    send::<vm_virt_kvm::Interrupter>();
    sync::<vm_virt_kvm::Interrupter>();
}
