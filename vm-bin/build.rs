//! Link options of the `vm` binary in size-optimized builds (`opt-level` "s" or "z",
//! as in the `release-small` profile) on Linux with the GNU target environment.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=link/no-unwind-tables.ld");
    println!("cargo::rustc-check-cfg=cfg(vm_no_unwind_tables)");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let small = matches!(var("OPT_LEVEL").as_str(), "s" | "z");
    if !small || var("CARGO_CFG_TARGET_OS") != "linux" || var("CARGO_CFG_TARGET_ENV") != "gnu" {
        return;
    }
    // The relative relocations of the position-independent binary packed (`DT_RELR`;
    // binutils 2.38 or LLD, glibc 2.36 or later): about 2,300 24-byte entries of
    // `.rela.dyn` (53 KiB) become a bitmap of a few hundred bytes, and the binary keeps
    // its address randomization.
    println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    // Without unwinding (`panic = "abort"`, which the size profile sets and `main.rs`
    // checks: a build script cannot see the panic strategy) the unwind and exception
    // tables (`.eh_frame`, `.gcc_except_table`, 120 KiB) have no reader left: they go.
    // A panic still prints its message and aborts; a backtrace (`RUST_BACKTRACE`)
    // stops at its first frame. Wasm backtraces do not use them (frame-pointer walks
    // and the engines' own tables).
    let dir = var("CARGO_MANIFEST_DIR");
    println!("cargo::rustc-link-arg-bins=-Wl,-T,{dir}/link/no-unwind-tables.ld");
    println!("cargo::rustc-cfg=vm_no_unwind_tables");
}
