//! The cost of the verifier against the translation it checks, per corpus module.
//!
//! `cargo bench -p vm-engine-interp --bench verify` (reads `../shared/bench`, the
//! 12 programs of `cases.tsv`; skipped when it is absent). For each module,
//! `translate` is the translation of every function (what `engine.verify=false`
//! costs) and `verify` the verifier over the translated code (what
//! `engine.verify=true` adds). Reports: `target/criterion/verify/`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use vm_core::runtime::{Features, ModuleInfo};
use vm_engine_interp::code::{FuncCode, Op, link_calls};
use vm_engine_interp::translate::FuncTranslator;
use vm_engine_interp::verify::Verifier;
use wasmparser::{BinaryReader, FunctionBody};

/// Every function of `info` translated, calls linked.
fn translate(info: &ModuleInfo) -> (Vec<Op>, Vec<FuncCode>, Vec<u64>) {
    let mut tr = FuncTranslator::new(info, vm_core::runtime::ExecLimits::default());
    let mut funcs = Vec::with_capacity(info.bodies.len());
    for (i, body) in info.bodies.iter().enumerate() {
        let bytes = &info.bytes[body.range.clone()];
        let fb = FunctionBody::new(BinaryReader::new(bytes, body.range.start as u64));
        funcs.push(tr.translate(info.num_imported_funcs + i as u32, &fb).expect("translate"));
    }
    let (mut ops, consts) = tr.finish();
    link_calls(&mut ops, &funcs);
    (ops, funcs, consts)
}

fn verify(info: &ModuleInfo, ops: &[Op], funcs: &[FuncCode], consts: usize) {
    let mut v = Verifier::new(info, ops, funcs, consts);
    for i in 0..funcs.len() {
        v.function(i).expect("verified");
    }
}

fn benches(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench");
    let Ok(cases) = std::fs::read_to_string(dir.join("cases.tsv")) else {
        eprintln!("{} is absent: skipping", dir.display());
        return;
    };
    let mut g = c.benchmark_group("verify");
    g.sample_size(20).warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    for line in cases.lines().skip(1) {
        let name = line.split('\t').next().expect("name");
        let bytes = std::fs::read(dir.join("wasm").join(format!("{name}.wasm"))).expect("wasm");
        let info = ModuleInfo::decode(&bytes, Features::default()).expect("valid module");
        let (ops, funcs, consts) = translate(&info);
        g.bench_function(format!("{name}/translate"), |b| {
            b.iter(|| black_box(translate(black_box(&info))))
        });
        g.bench_function(format!("{name}/verify"), |b| {
            b.iter(|| verify(black_box(&info), &ops, &funcs, consts.len()))
        });
    }
    g.finish();
}

criterion_group!(verify_benches, benches);
criterion_main!(verify_benches);
