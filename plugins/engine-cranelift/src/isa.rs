//! The target ISA code is generated for: Cranelift's shared flags from the engine's
//! configuration, and the x86-64 instruction-set flags from the composition's `simd`
//! plugin ([`level_flags`]), each only where the host CPU has it.

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use vm_core::slot::SimdLevel;

use crate::CraneliftConfig;

/// The x86-64 flags of Cranelift each level enables, each only when the host has it
/// (Cranelift's own detection); every other instruction-set flag (AVX-512, AVX-VNNI…)
/// stays off. Without a `simd` plugin the engine keeps every flag the host has: no
/// v128 code runs, and scalar code uses whatever the CPU offers.
///
/// | level | flags | roughly | what changes |
/// |---|---|---|---|
/// | `scalar` | none | x86-64 (SSE2) | v128 operators lower to SSE2 sequences; `pshufb` (swizzle, some shuffles, popcnt) and vector rounding become calls to runtime routines |
/// | `sse4.1` | `has_sse3`, `has_ssse3`, `has_sse41`, `has_sse42`, `has_popcnt`, `has_cmpxchg16b` | x86-64-v2 | single instructions for rounding, blends, lane inserts and extracts, min/max, widening; legacy (non-VEX) encodings |
/// | `avx2` | the above and `has_avx`, `has_avx2`, `has_fma`, `has_bmi1`, `has_bmi2`, `has_lzcnt` | x86-64-v3 | VEX three-operand encodings (fewer register copies), broadcasts; BMI and LZCNT for scalar bit operations |
pub fn level_flags(level: SimdLevel) -> &'static [&'static str] {
    const SSE41: &[&str] =
        &["has_sse3", "has_ssse3", "has_sse41", "has_sse42", "has_popcnt", "has_cmpxchg16b"];
    const AVX2: &[&str] = &[
        "has_sse3",
        "has_ssse3",
        "has_sse41",
        "has_sse42",
        "has_popcnt",
        "has_cmpxchg16b",
        "has_avx",
        "has_avx2",
        "has_fma",
        "has_bmi1",
        "has_bmi2",
        "has_lzcnt",
    ];
    match level {
        SimdLevel::Scalar => &[],
        SimdLevel::Sse41 => SSE41,
        SimdLevel::Avx2 => AVX2,
    }
}

/// Which ISA: the host's (no `simd` plugin) or a level's.
pub(crate) fn slot(level: Option<SimdLevel>) -> usize {
    match level {
        None => 0,
        Some(SimdLevel::Scalar) => 1,
        Some(SimdLevel::Sse41) => 2,
        Some(SimdLevel::Avx2) => 3,
    }
}

/// The ISAs an engine has built, by [`slot`].
pub(crate) type IsaCache = [Option<OwnedTargetIsa>; 4];

/// Builds the ISA for `level` (`None`: every flag the host has) with the shared
/// flags of `config`.
///
/// # Errors
/// A flag Cranelift rejects, or a host Cranelift does not support.
pub fn build(config: &CraneliftConfig, level: Option<SimdLevel>) -> Result<OwnedTargetIsa, String> {
    let flags = shared_flags(config)?;
    let native = cranelift_native::builder().map_err(str::to_owned)?;
    let Some(level) = level else {
        return native.finish(flags).map_err(|e| e.to_string());
    };
    if native.triple().architecture.to_string() != "x86_64" {
        // Other architectures have no level flags here: their baseline has vectors.
        return native.finish(flags).map_err(|e| e.to_string());
    }
    let host = native.finish(flags.clone()).map_err(|e| e.to_string())?;
    let has =
        |name: &str| host.isa_flags().iter().any(|v| v.name == name && v.as_bool() == Some(true));
    let mut b = cranelift_native::builder_with_options(false).map_err(str::to_owned)?;
    for &name in level_flags(level) {
        if has(name) {
            b.enable(name).map_err(|e| format!("setting {name}: {e}"))?;
        }
    }
    b.finish(flags).map_err(|e| e.to_string())
}

fn shared_flags(config: &CraneliftConfig) -> Result<settings::Flags, String> {
    let mut flags = settings::builder();
    let set = |f: &mut settings::Builder, k: &str, v: &str| {
        f.set(k, v).map_err(|e| format!("setting {k}={v}: {e}"))
    };
    set(&mut flags, "opt_level", config.opt_level.as_str())?;
    set(&mut flags, "enable_verifier", if config.verifier { "true" } else { "false" })?;
    // Frame pointers let the trap handler walk wasm frames for backtraces.
    set(&mut flags, "preserve_frame_pointers", "true")?;
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    set(&mut flags, "enable_probestack", "true")?;
    set(&mut flags, "probestack_strategy", "inline")?;
    // Code-neutral: the prologue records which callee-saved registers it saves
    // where, which exception unwinding restores (`Assembler::add`).
    set(&mut flags, "unwind_info", "true")?;
    Ok(settings::Flags::new(flags))
}

#[cfg(test)]
mod tests;
