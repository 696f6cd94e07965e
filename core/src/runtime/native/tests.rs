use super::*;

/// Code at 0x1000: function 2 at [0x10, 0x40), function 3 at [0x40, 0x80), a
/// trampoline at [0x80, 0x90).
fn map() -> CodeMap {
    CodeMap::new(
        0x1000,
        0x100,
        2,
        vec![0x10..0x40, 0x40..0x80],
        vec![
            TrapSite { offset: 0x50, kind: TrapKind::Wasm(TrapCode::Unreachable) },
            TrapSite { offset: 0x20, kind: TrapKind::Wasm(TrapCode::MemoryOutOfBounds) },
            TrapSite { offset: 0x88, kind: TrapKind::Pending },
        ],
        vec![(0x40, 70), (0x10, 7)],
    )
}

#[test]
fn code_map_resolves_trap_sites_functions_and_offsets() {
    let m = map();
    assert_eq!(m.range(), 0x1000..0x1100);
    assert_eq!(m.trap_at(0x1020), Some(TrapKind::Wasm(TrapCode::MemoryOutOfBounds)));
    assert_eq!(m.trap_at(0x1050), Some(TrapKind::Wasm(TrapCode::Unreachable)));
    assert_eq!(m.trap_at(0x1088), Some(TrapKind::Pending));
    assert_eq!(m.trap_at(0x1021), None, "only the trapping instruction itself");
    assert_eq!(m.trap_at(0x2020), None, "outside the code");
    assert_eq!(m.func_at(0x100f), None);
    assert_eq!(m.func_at(0x1010), Some(2));
    assert_eq!(m.func_at(0x103f), Some(2));
    assert_eq!(m.func_at(0x1040), Some(3));
    assert_eq!(m.func_at(0x1085), None, "trampolines are no wasm frame");
    assert_eq!(m.wasm_offset(0x1030), Some(7));
    assert_eq!(m.wasm_offset(0x1041), Some(70));
    assert_eq!(m.wasm_offset(0x1008), None);
    assert_eq!(m.function(3), Some(0x1040..0x1080));
    assert_eq!(m.function(1), None, "an import");
    assert_eq!(m.function(4), None);
    let f: Vec<_> = m.functions().collect();
    assert_eq!(f, [(2, 0x1010..0x1040), (3, 0x1040..0x1080)]);
    assert_eq!(m.trap_sites().iter().map(|t| t.offset).collect::<Vec<_>>(), [0x20, 0x50, 0x88]);
}

/// A lookup over the code map that `store` points to.
unsafe fn one_map(store: *const (), pc: usize) -> Option<*const CodeMap> {
    // SAFETY: the tests pass a pointer to a live `CodeMap`.
    let m = unsafe { &*store.cast::<CodeMap>() };
    m.contains(pc).then_some(m as *const CodeMap)
}

#[test]
fn a_fault_at_a_trap_site_records_the_trap_and_walks_the_wasm_frames() {
    let m = map();
    // A fake stack, growing down: the trapping frame (function 3) was called by
    // function 2, which was called by the entry trampoline, called from the host.
    let mut stack = [0usize; 8];
    let at = |i: usize, s: &[usize; 8]| s.as_ptr() as usize + 8 * i;
    stack[0] = at(2, &stack); // function 3's frame: caller's fp
    stack[1] = 0x1031; // return address into function 2
    stack[2] = at(4, &stack); // function 2's frame
    stack[3] = 0x1085; // return address into the trampoline (no wasm frame)
    stack[4] = at(6, &stack); // trampoline's frame
    stack[5] = 0x9999; // return address into the host: the walk stops
    let fp = at(0, &stack);
    let stack_range = (fp, at(8, &stack));
    let mut st = CallState::with_lookup(
        one_map,
        (&m as *const CodeMap).cast(),
        GuestStack { lo: stack_range.0, limit: stack_range.0 },
    );
    st.entry_sp = stack_range.1;
    // SAFETY: `[stack_lo, entry_sp)` is `stack`, readable.
    assert!(unsafe { st.record_trap(0x1050, fp) });
    assert_eq!(st.trap, Some(TrapKind::Wasm(TrapCode::Unreachable)));
    assert_eq!(&st.pcs[..st.npcs], [0x1050, 0x1030]);
}

#[test]
fn a_fault_elsewhere_is_not_the_guests() {
    let m = map();
    let mut st =
        CallState::with_lookup(one_map, (&m as *const CodeMap).cast(), GuestStack::default());
    // SAFETY: no frame is read: the pcs are rejected first.
    unsafe {
        assert!(!st.record_trap(0x1021, 0), "an instruction that is not a trap site");
        assert!(!st.record_trap(0x5000, 0), "outside any code");
    }
    assert_eq!(st.trap, None);
    assert_eq!(st.npcs, 0);
}

#[test]
fn recording_outside_a_call_does_nothing() {
    assert!(current().is_null());
    set_pending(Trap::host("nobody listens"));
    count_host_call();
    assert!(current().is_null());
}
