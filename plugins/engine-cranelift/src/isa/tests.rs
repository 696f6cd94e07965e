use vm_core::runtime::{Features, ModuleInfo};
use vm_core::slot::SimdLevel;

use super::{build, level_flags};
use crate::{CraneliftConfig, disassemble};

const LEVELS: [SimdLevel; 3] = [SimdLevel::Scalar, SimdLevel::Sse41, SimdLevel::Avx2];

fn flag(isa: &cranelift_codegen::isa::OwnedTargetIsa, name: &str) -> bool {
    isa.isa_flags().iter().any(|v| v.name == name && v.as_bool() == Some(true))
}

#[test]
fn levels_grow_and_never_reach_avx512() {
    assert!(level_flags(SimdLevel::Scalar).is_empty());
    let sse = level_flags(SimdLevel::Sse41);
    let avx = level_flags(SimdLevel::Avx2);
    assert!(sse.iter().all(|f| avx.contains(f)), "avx2 includes every sse4.1 flag");
    assert!(!sse.iter().any(|f| f.contains("avx") || *f == "has_fma"), "{sse:?}");
    for f in ["has_avx", "has_avx2", "has_fma", "has_bmi1", "has_bmi2"] {
        assert!(avx.contains(&f), "{f}");
    }
    assert!(!avx.iter().any(|f| f.contains("avx512") || f.contains("vnni")), "{avx:?}");
}

#[test]
fn built_isa_has_exactly_the_level_flags_the_host_has() {
    let config = CraneliftConfig::default();
    let host = build(&config, None).expect("host isa");
    for level in LEVELS {
        let isa = build(&config, Some(level)).expect("level isa");
        for v in isa.isa_flags() {
            let Some(on) = v.as_bool() else { continue };
            if !v.name.starts_with("has_") {
                continue;
            }
            let want = level_flags(level).contains(&v.name) && flag(&host, v.name);
            assert_eq!(on, want, "{} at {}", v.name, level.name());
        }
    }
}

/// The machine code of the module's first function at `level`, as text.
fn asm(level: SimdLevel) -> String {
    let wat = r#"(module (func (param v128 v128 f32) (result v128)
        (f32x4.mul (i32x4.add (local.get 0) (local.get 1)) (f32x4.splat (local.get 2)))))"#;
    let bytes = wat::parse_str(wat).expect("wat");
    let info = ModuleInfo::decode(&bytes, Features::SIMD).expect("decode");
    let text =
        disassemble(&CraneliftConfig::default(), Some(level), &info, 0, true).expect("compiles");
    // The machine code follows the IR; the IR's own lines mention `v0`, `v1`…
    text.split_once("\n\n").map_or(text.clone(), |(_, a)| a.to_owned())
}

/// Mnemonics of instructions in the vcode text (`  vpaddd %xmm0, ...`).
fn mnemonics(asm: &str) -> Vec<String> {
    asm.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|m| m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn sse41_code_has_no_vex_instruction() {
    let ops = mnemonics(&asm(SimdLevel::Sse41));
    assert!(ops.iter().any(|m| m == "paddd"), "{ops:?}");
    assert!(ops.iter().any(|m| m == "mulps"), "{ops:?}");
    // Every VEX-encoded instruction's mnemonic starts with `v`; none of the legacy
    // SSE ones Cranelift emits does.
    assert!(!ops.iter().any(|m| m.starts_with('v')), "{ops:?}");
}

#[test]
fn avx2_code_is_vex_encoded() {
    if !std::is_x86_feature_detected!("avx2") {
        eprintln!("skipped: this CPU has no AVX2");
        return;
    }
    let ops = mnemonics(&asm(SimdLevel::Avx2));
    assert!(ops.iter().any(|m| m == "vpaddd"), "{ops:?}");
    assert!(ops.iter().any(|m| m == "vmulps"), "{ops:?}");
    assert!(!ops.iter().any(|m| m == "paddd" || m == "mulps"), "{ops:?}");
}

#[test]
fn scalar_code_compiles_every_lowering_without_sse41() {
    let ops = mnemonics(&asm(SimdLevel::Scalar));
    assert!(ops.iter().any(|m| m == "paddd"), "{ops:?}");
    assert!(!ops.iter().any(|m| m.starts_with('v')), "{ops:?}");
}
