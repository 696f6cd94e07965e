//! The CPU features a composition needs, checked when a VM is built.
//!
//! A `simd` plugin lists the features its level needs
//! ([`Simd::CPU_FEATURES`]); `Vm::new` calls
//! [`check_simd`] before any plugin is built, so a binary composed for AVX2 stops with a
//! clear error on a CPU without it instead of executing an illegal instruction.
//!
//! The environment variable `VM_CPU_HIDE` (a comma-separated list of feature names)
//! hides features from detection. It can only make the check stricter, never pretend
//! a feature exists: it is how the start-up check is tested on a machine that has
//! every feature.

use crate::slot::Simd;

/// Whether the CPU has the feature `name` (an `is_x86_feature_detected!` name, such
/// as `sse4.1` or `avx2`) and it is not hidden by `VM_CPU_HIDE`. Unknown names and
/// non-x86-64 targets answer `false`.
pub fn has(name: &str) -> bool {
    if let Some(hidden) = std::env::var_os("VM_CPU_HIDE")
        && hidden.to_string_lossy().split(',').any(|h| h.trim() == name)
    {
        return false;
    }
    detected(name)
}

#[cfg(target_arch = "x86_64")]
fn detected(name: &str) -> bool {
    match name {
        "sse2" => std::arch::is_x86_feature_detected!("sse2"),
        "sse3" => std::arch::is_x86_feature_detected!("sse3"),
        "ssse3" => std::arch::is_x86_feature_detected!("ssse3"),
        "sse4.1" => std::arch::is_x86_feature_detected!("sse4.1"),
        "sse4.2" => std::arch::is_x86_feature_detected!("sse4.2"),
        "popcnt" => std::arch::is_x86_feature_detected!("popcnt"),
        "avx" => std::arch::is_x86_feature_detected!("avx"),
        "avx2" => std::arch::is_x86_feature_detected!("avx2"),
        "fma" => std::arch::is_x86_feature_detected!("fma"),
        "bmi1" => std::arch::is_x86_feature_detected!("bmi1"),
        "bmi2" => std::arch::is_x86_feature_detected!("bmi2"),
        "lzcnt" => std::arch::is_x86_feature_detected!("lzcnt"),
        _ => false,
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detected(_: &str) -> bool {
    false
}

/// A CPU feature the composition needs and the machine lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingCpuFeature {
    /// The plugin that needs it.
    pub plugin: &'static str,
    /// The feature.
    pub feature: &'static str,
    /// What to build with instead.
    pub instead: &'static str,
}

/// Checks the CPU features the `simd` plugin `S` needs.
///
/// # Errors
/// The first feature the machine lacks.
pub fn check_simd<S: Simd>() -> Result<(), MissingCpuFeature> {
    match S::CPU_FEATURES.iter().find(|f| !has(f)) {
        None => Ok(()),
        Some(feature) => {
            Err(MissingCpuFeature { plugin: S::META.id, feature, instead: S::INSTEAD })
        }
    }
}
