//! The `artifact` target under libFuzzer (`cargo +nightly fuzz run artifact`). Built
//! without `cargo fuzz`, it replays the input files named on its command line.

#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| vm_fuzz::fuzz_one("artifact", data));

#[cfg(not(fuzzing))]
fn main() -> std::process::ExitCode {
    vm_fuzz::replay_files("artifact", std::env::args_os().skip(1))
}
