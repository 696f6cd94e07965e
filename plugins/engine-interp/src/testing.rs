//! Test support: a minimal `virt` plugin (a heap-allocated linear memory, no
//! guard pages) so unit tests run real Wasm through the real translator and
//! executor without depending on another plugin crate, and helpers to translate
//! and run `.wat` text.

use vm_core::plugin::PluginStats;
use vm_core::runtime::module::{Features, ModuleInfo};
use vm_core::runtime::{
    InvokeError, LinearMemory, Linker, MemoryError, MemoryType, PAGE_SIZE, RunContext, TrapCode,
    Val,
};
use vm_core::slot::Virt;
use vm_core::{Plugin, PluginError, Settings, Vm};

use crate::code::{FuncCode, Op};
use crate::translate::FuncTranslator;

/// Largest test memory, in pages.
const MAX_PAGES: u32 = 16;

/// A linear memory in one heap allocation of [`MAX_PAGES`] pages, so its base never
/// moves.
pub struct TestMemory {
    bytes: Box<[u8]>,
    len: usize,
}

impl LinearMemory for TestMemory {
    fn base(&self) -> *mut u8 {
        self.bytes.as_ptr().cast_mut()
    }

    fn byte_len(&self) -> usize {
        self.len
    }

    fn grow_to(&mut self, pages: u32) -> Result<(), MemoryError> {
        if pages > MAX_PAGES {
            return Err(MemoryError::TooLarge { pages: pages.into(), limit: MAX_PAGES.into() });
        }
        self.len = pages as usize * PAGE_SIZE;
        Ok(())
    }
}

/// Configuration of the test virt (none).
#[derive(Debug, Clone, serde::Deserialize, vm_core::PluginConfig)]
#[serde(default, deny_unknown_fields)]
pub struct TestVirtConfig {}

/// In-process execution over [`TestMemory`].
#[vm_core::plugin(id = "test-virt", slot = virt, provides = ["virt@1.0.0"])]
pub struct TestVirt {}

impl Plugin for TestVirt {
    type Config = TestVirtConfig;

    fn new(_: TestVirtConfig) -> Result<Self, PluginError> {
        Ok(Self {})
    }

    fn stats(&self) -> PluginStats {
        PluginStats::default()
    }
}

impl Virt for TestVirt {
    const GUARD_PAGES: bool = false;
    type Memory = TestMemory;
    type StoreState = ();

    fn new_memory(&mut self, ty: &MemoryType) -> Result<TestMemory, MemoryError> {
        if ty.min > MAX_PAGES {
            return Err(MemoryError::TooLarge { pages: ty.min.into(), limit: MAX_PAGES.into() });
        }
        let bytes = vec![0u8; MAX_PAGES as usize * PAGE_SIZE].into_boxed_slice();
        Ok(TestMemory { bytes, len: ty.min as usize * PAGE_SIZE })
    }

    fn max_call_depth(&self) -> u32 {
        1000
    }

    fn max_stack_slots(&self) -> usize {
        1 << 16
    }
}

/// The portable lanes, so that unit tests run simd128 without a `simd` plugin crate.
#[vm_core::plugin(id = "test-simd", slot = simd, provides = ["simd@1.0.0"])]
#[derive(Debug)]
pub struct TestSimd;

impl Plugin for TestSimd {
    type Config = vm_core::config::NoConfig;

    fn new(_: Self::Config) -> Result<Self, PluginError> {
        Ok(Self)
    }
}

impl vm_core::slot::Simd for TestSimd {
    const PRESENT: bool = true;
    const LEVEL: vm_core::slot::SimdLevel = vm_core::slot::SimdLevel::Scalar;
    const CPU_FEATURES: &'static [&'static str] = &[];
    const INSTEAD: &'static str = "";
    type Lanes = vm_core::runtime::simd::Portable;
}

vm_core::compose! {
    /// The interpreter over the test memory.
    pub struct TestVm {
        engine: crate::Interp,
        virt: TestVirt,
        simd: TestSimd,
        hosts: [],
    }
}

/// The translated code of `wat`: the module, its code (calls linked), functions
/// and constant pool.
pub fn translate(wat: &str) -> (ModuleInfo, Vec<Op>, Vec<FuncCode>, Vec<u64>) {
    let (info, ops, funcs, consts, _) = translate_simd(wat);
    (info, ops, funcs, consts)
}

/// [`translate`], simd128 allowed, also returning the `v128` pool.
pub fn translate_simd(wat: &str) -> (ModuleInfo, Vec<Op>, Vec<FuncCode>, Vec<u64>, Vec<u128>) {
    let features = Features::SIMD;
    let info = ModuleInfo::decode(wat.as_bytes(), features).expect("valid module");
    let mut tr = FuncTranslator::new(&info, vm_core::runtime::ExecLimits::default());
    let mut funcs = Vec::new();
    for (i, body) in info.bodies.iter().enumerate() {
        let bytes = &info.bytes[body.range.clone()];
        let fb = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(
            bytes,
            body.range.start as u64,
        ));
        funcs.push(tr.translate(info.num_imported_funcs + i as u32, &fb).expect("translate"));
    }
    let v128s = tr.take_v128s();
    let (mut ops, consts) = tr.finish();
    crate::code::link_calls(&mut ops, &funcs);
    (info, ops, funcs, consts, v128s)
}

/// The instructions of defined function `i` of `wat`, after its `Enter` (and
/// `Consts`).
pub fn body(wat: &str, i: usize) -> Vec<Op> {
    let (_, ops, funcs, _) = translate(wat);
    let fc = funcs[i];
    let end = funcs.get(i + 1).map_or(ops.len(), |f| f.entry as usize);
    let skip = 1 + usize::from(fc.consts_len != 0);
    ops[fc.entry as usize + skip..end].to_vec()
}

/// A module instantiated on the interpreter (verification on), ready to call.
pub struct Running {
    vm: Vm<TestVm, vm_core::compose::lifecycle::Running>,
    linker: Linker<TestVm>,
    inst: vm_core::runtime::Instance,
}

impl Running {
    /// Compiles and instantiates `wat`.
    pub fn new(wat: &str) -> Self {
        let mut s = Settings::new();
        s.merge_flag("engine.verify=true").expect("the verify key");
        let mut vm = Vm::<TestVm>::new(&s).unwrap().init().unwrap().start().unwrap();
        let module = vm.compile(wat).expect("compile");
        let mut linker = Linker::<TestVm>::new(RunContext::default());
        let inst = vm.instantiate(&module, &mut linker).expect("instantiate");
        Self { vm, linker, inst }
    }

    /// Calls export `name`.
    pub fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>, InvokeError> {
        self.vm.invoke(&mut self.linker, self.inst, name, args)
    }

    /// Calls export `name`, expecting one result.
    pub fn one(&mut self, name: &str, args: &[Val]) -> Val {
        match self.call(name, args) {
            Ok(r) if r.len() == 1 => r[0],
            other => panic!("{name}{args:?}: {other:?}"),
        }
    }

    /// Calls export `name`, expecting a trap with `code`.
    pub fn traps(&mut self, name: &str, args: &[Val], code: TrapCode) {
        match self.call(name, args) {
            Err(InvokeError::Trap(t)) => assert_eq!(t.code, code, "{name}{args:?}"),
            other => panic!("{name}{args:?}: expected {code:?}, got {other:?}"),
        }
    }

    /// Writes `bytes` to memory 0 at `at`.
    pub fn poke(&mut self, at: usize, bytes: &[u8]) {
        let mem = self.vm.memory_mut(&mut self.linker, self.inst, "mem").expect("export mem");
        mem[at..at + bytes.len()].copy_from_slice(bytes);
    }
}
