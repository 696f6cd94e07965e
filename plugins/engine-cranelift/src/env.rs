//! The environment: everything in generated code that depends on the runtime's
//! layout (the instance context, memories, tables, globals, funcrefs, the store
//! context and the runtime functions). Offsets come from `vm_core::runtime::offsets`
//! only; the operator translator asks this module for addresses and calls and
//! hard-codes no layout.

use cranelift_codegen::ir::{
    self, AbiParam, ArgumentPurpose, Block, BlockArg, BlockCall, ExceptionTableData,
    ExceptionTableItem, ExtFuncData, ExternalName, FuncRef, GlobalValue, GlobalValueData,
    InstBuilder, MemFlagsData, SigRef, Signature, TrapCode, Type, UserExternalName, Value,
    condcodes::IntCC, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use vm_core::runtime::native::NativeType;
use vm_core::runtime::offsets as o;
use vm_core::runtime::{ExecLimits, FuncType, ModuleInfo, ValType};

/// Trap codes of generated code beyond Cranelift's own.
pub mod trap {
    use cranelift_codegen::ir::TrapCode;

    /// `unreachable`.
    pub const UNREACHABLE: TrapCode = TrapCode::unwrap_user(1);
    /// Table index out of bounds.
    pub const TABLE_OUT_OF_BOUNDS: TrapCode = TrapCode::unwrap_user(2);
    /// `call_indirect` to a null entry.
    pub const INDIRECT_CALL_TO_NULL: TrapCode = TrapCode::unwrap_user(3);
    /// `call_indirect` signature mismatch.
    pub const BAD_SIGNATURE: TrapCode = TrapCode::unwrap_user(4);
    /// Fuel exhausted.
    pub const OUT_OF_FUEL: TrapCode = TrapCode::unwrap_user(5);
    /// A runtime function recorded the trap.
    pub const PENDING: TrapCode = TrapCode::unwrap_user(6);
    /// The store's interrupt flag was set.
    pub const INTERRUPTED: TrapCode = TrapCode::unwrap_user(7);
    /// `ref.as_non_null` of null, or `throw_ref` of a null reference.
    pub const NULL_REFERENCE: TrapCode = TrapCode::unwrap_user(8);
    /// `call_ref` or `return_call_ref` of null.
    pub const NULL_FUNCTION_REFERENCE: TrapCode = TrapCode::unwrap_user(9);
}

/// The namespace of the module's throw stub in `UserExternalName`s (functions of
/// the module are namespace 0).
pub const THROW_STUB_NAMESPACE: u32 = 1;

pub use vm_core::runtime::native::runtime_fns::{
    NUM_RUNTIME_FNS as NUM_LIBCALLS, RuntimeFn as Libcall,
};

/// The Cranelift signature of runtime function `lc`.
fn libcall_signature(lc: Libcall) -> Signature {
    let (params, ret) = lc.native_signature();
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend(params.iter().map(|&t| AbiParam::new(native_ir_type(t))));
    sig.returns.extend(ret.map(|t| AbiParam::new(native_ir_type(t))));
    sig
}

/// The Cranelift type of a native argument type.
fn native_ir_type(t: NativeType) -> Type {
    match t {
        NativeType::I32 => types::I32,
        NativeType::I64 | NativeType::VmCtx | NativeType::GuestPtr => types::I64,
        NativeType::F32 => types::F32,
        NativeType::F64 => types::F64,
        NativeType::V128 => types::I8X16,
    }
}

/// The Cranelift type of a wasm value type (references are raw pointers).
pub fn ir_type(t: ValType) -> Type {
    match t {
        ValType::I32 => types::I32,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        _ => types::I64,
    }
}

/// The native signature of a wasm function: callee context, caller context, params,
/// in Cranelift's `tail` calling convention (the System V registers, callee-saved
/// ones included, but the callee pops its stack arguments and more results come
/// back in registers), so that `return_call` can replace a frame by one with more
/// stack arguments. The entry trampoline (System V, called by the `virt` plugin)
/// calls it like any other function.
pub fn wasm_signature(ty: &FuncType) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params.push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(types::I64));
    sig.params.extend(ty.params().iter().map(|&t| AbiParam::new(ir_type(t))));
    sig.returns.extend(ty.results().iter().map(|&t| AbiParam::new(ir_type(t))));
    sig
}

/// What a call calls.
#[derive(Clone, Copy)]
enum Callee {
    /// A function of the module (or the throw stub), by name.
    Direct(FuncRef),
    /// Code at an address.
    Indirect(Value),
}

/// Flags of loads from runtime structures that never change while code runs.
fn fixed() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// What one function's code knows about its module and composition.
pub struct FuncEnv<'m> {
    /// The module.
    pub module: &'m ModuleInfo,
    /// Linear memory has guard pages (in-bounds checks may be dropped).
    pub guard_pages: bool,
    /// Fuel metering is compiled in.
    pub fuel: bool,
    /// Interruption checks are compiled in.
    pub interrupt: bool,
    /// Calls deliver wasm-call events (an observer of the composition subscribes).
    pub call_events: bool,
    /// `memory.copy` and `memory.fill` are generated inline instead of calling the
    /// runtime (the `virt` plugin's host calls are not cheap).
    pub inline_bulk_memory: bool,
    vmctx: Option<Value>,
    vmctx_gv: Option<GlobalValue>,
    /// The function's imported signatures and callees, by module index. Sized to the
    /// module once; only the entries set (listed in `sigs_set`/`funcs_set`) are
    /// cleared between functions, so a module of many functions compiles in linear
    /// time.
    sigs: Vec<Option<SigRef>>,
    funcs: Vec<Option<FuncRef>>,
    sigs_set: Vec<u32>,
    funcs_set: Vec<u32>,
    libcall_sigs: [Option<SigRef>; NUM_LIBCALLS],
    throw_stub: Option<FuncRef>,
}

/// The most a static offset may be for the guard region to cover an access (the
/// reservation spans 4 GiB of addresses plus at least this much).
const GUARDED_OFFSET: u64 = 0x8000_0000;

impl<'m> FuncEnv<'m> {
    /// An environment for functions of `module`.
    pub fn new(
        module: &'m ModuleInfo,
        guard_pages: bool,
        limits: ExecLimits,
        call_events: bool,
    ) -> Self {
        Self {
            module,
            guard_pages,
            fuel: limits.metering(),
            interrupt: limits.interrupt_checks(),
            call_events,
            inline_bulk_memory: false,
            vmctx: None,
            vmctx_gv: None,
            sigs: vec![None; module.types.len()],
            funcs: vec![None; module.funcs.len()],
            sigs_set: Vec::new(),
            funcs_set: Vec::new(),
            libcall_sigs: [None; NUM_LIBCALLS],
            throw_stub: None,
        }
    }

    /// Forgets per-function state before translating the next function.
    pub fn reset(&mut self) {
        self.vmctx = None;
        self.vmctx_gv = None;
        for ty in self.sigs_set.drain(..) {
            self.sigs[ty as usize] = None;
        }
        for func in self.funcs_set.drain(..) {
            self.funcs[func as usize] = None;
        }
        self.libcall_sigs = [None; NUM_LIBCALLS];
        self.throw_stub = None;
    }

    fn vmctx_gv(&mut self, b: &mut FunctionBuilder) -> GlobalValue {
        *self.vmctx_gv.get_or_insert_with(|| b.create_global_value(GlobalValueData::VMContext))
    }

    /// Sets the function's own context (its first parameter).
    pub fn set_vmctx(&mut self, v: Value) {
        self.vmctx = Some(v);
    }

    fn load_gv(
        b: &mut FunctionBuilder,
        base: GlobalValue,
        offset: usize,
        flags: MemFlagsData,
    ) -> GlobalValue {
        let flags = b.func.dfg.mem_flags.insert_unchecked(flags);
        b.create_global_value(GlobalValueData::Load {
            base,
            offset: (offset as i32).into(),
            global_type: types::I64,
            flags,
        })
    }

    /// The function's own context.
    pub fn vmctx(&mut self, _b: &mut FunctionBuilder) -> Value {
        self.vmctx.expect("set_vmctx is called before translation")
    }

    /// Sets the prologue's stack-limit check (the store context's `stack_limit`).
    pub fn set_stack_limit(&mut self, b: &mut FunctionBuilder) {
        let vmctx = self.vmctx_gv(b);
        let store = Self::load_gv(b, vmctx, o::VMCTX_STORE, fixed());
        let limit = Self::load_gv(b, store, o::STORE_STACK_LIMIT, MemFlagsData::trusted());
        b.func.stack_limit = Some(limit);
    }

    fn fixed_load(&mut self, b: &mut FunctionBuilder, base: Value, offset: usize) -> Value {
        b.ins().load(types::I64, fixed(), base, offset as i32)
    }

    fn vmctx_field(&mut self, b: &mut FunctionBuilder, offset: usize) -> Value {
        let v = self.vmctx(b);
        self.fixed_load(b, v, offset)
    }

    // ---- linear memory ----------------------------------------------------------

    fn memory_def(&mut self, b: &mut FunctionBuilder, mem: u32) -> Value {
        if mem == 0 {
            return self.vmctx_field(b, o::VMCTX_MEMORY0);
        }
        let arr = self.vmctx_field(b, o::VMCTX_MEMORIES);
        self.fixed_load(b, arr, mem as usize * 8)
    }

    /// The native address for an access of `size` bytes at wasm address `index`
    /// (an `i32`) plus static `offset` in memory `mem`, and the static offset left to
    /// fold into the access. Traps when out of bounds: by an explicit check, or, with
    /// guard pages and a small enough offset, by the access faulting.
    pub fn heap_addr(
        &mut self,
        b: &mut FunctionBuilder,
        mem: u32,
        index: Value,
        offset: u64,
        size: u32,
    ) -> (Value, i32) {
        // A memory64 offset past `u32::MAX` is out of bounds like any (see
        // `vm_core::runtime::clamp_index64`); memory32 offsets never are.
        let offset = u64::from(vm_core::runtime::clamp_index64(offset));
        let index = b.ins().uextend(types::I64, index);
        if self.guard_pages && mem == 0 && offset <= GUARDED_OFFSET {
            // Base and definition never move with guard pages: loads the optimizer
            // may share and hoist out of loops.
            let def = self.vmctx_field(b, o::VMCTX_MEMORY0);
            let base = self.fixed_load(b, def, o::MEMORY_BASE);
            let addr = b.ins().iadd(base, index);
            return (addr, offset as i32);
        }
        let def = self.memory_def(b, mem);
        let len = b.ins().load(types::I64, MemFlagsData::trusted(), def, o::MEMORY_LENGTH as i32);
        let end = b.ins().iadd_imm_s(index, (offset + u64::from(size)) as i64);
        let oob = b.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
        b.ins().trapnz(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
        let base = b.ins().load(types::I64, MemFlagsData::trusted(), def, o::MEMORY_BASE as i32);
        let addr = b.ins().iadd(base, index);
        if offset <= i32::MAX as u64 {
            (addr, offset as i32)
        } else {
            (b.ins().iadd_imm_s(addr, offset as i64), 0)
        }
    }

    /// The native address and byte length of memory `mem`, for bulk operations.
    pub fn memory_base_len(&mut self, b: &mut FunctionBuilder, mem: u32) -> (Value, Value) {
        let def = self.memory_def(b, mem);
        let flags = MemFlagsData::trusted();
        let base = b.ins().load(types::I64, flags, def, o::MEMORY_BASE as i32);
        let len = b.ins().load(types::I64, flags, def, o::MEMORY_LENGTH as i32);
        (base, len)
    }

    /// Flags of a linear-memory access.
    pub fn heap_flags() -> MemFlagsData {
        MemFlagsData::new().with_trap_code(Some(TrapCode::HEAP_OUT_OF_BOUNDS))
    }

    /// `memory.size` in pages.
    pub fn memory_size(&mut self, b: &mut FunctionBuilder, mem: u32) -> Value {
        let def = self.memory_def(b, mem);
        let len = b.ins().load(types::I64, MemFlagsData::trusted(), def, o::MEMORY_LENGTH as i32);
        let pages = b.ins().ushr_imm_u(len, 16);
        b.ins().ireduce(types::I32, pages)
    }

    // ---- globals ----------------------------------------------------------------

    fn global_ptr(&mut self, b: &mut FunctionBuilder, idx: u32) -> Value {
        let arr = self.vmctx_field(b, o::VMCTX_GLOBALS);
        self.fixed_load(b, arr, idx as usize * 8)
    }

    /// `global.get`.
    pub fn global_get(&mut self, b: &mut FunctionBuilder, idx: u32) -> Value {
        let g = self.module.globals[idx as usize];
        let ptr = self.global_ptr(b, idx);
        let flags = if g.mutable { MemFlagsData::trusted() } else { fixed() };
        b.ins().load(ir_type(g.ty), flags, ptr, o::GLOBAL_LO as i32)
    }

    /// `global.set`.
    pub fn global_set(&mut self, b: &mut FunctionBuilder, idx: u32, v: Value) {
        let ptr = self.global_ptr(b, idx);
        b.ins().store(MemFlagsData::trusted(), v, ptr, o::GLOBAL_LO as i32);
    }

    // ---- tables and references --------------------------------------------------

    fn table_def(&mut self, b: &mut FunctionBuilder, table: u32) -> Value {
        let arr = self.vmctx_field(b, o::VMCTX_TABLES);
        self.fixed_load(b, arr, table as usize * 8)
    }

    /// The address of element `index` (an `i32`) of `table`, trapping when out of
    /// bounds.
    fn table_elem_addr(&mut self, b: &mut FunctionBuilder, table: u32, index: Value) -> Value {
        let def = self.table_def(b, table);
        let len = b.ins().load(types::I64, MemFlagsData::trusted(), def, o::TABLE_LENGTH as i32);
        let index = b.ins().uextend(types::I64, index);
        let oob = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        b.ins().trapnz(oob, trap::TABLE_OUT_OF_BOUNDS);
        let base = b.ins().load(types::I64, MemFlagsData::trusted(), def, o::TABLE_BASE as i32);
        let off = b.ins().imul_imm_u(index, o::TABLE_ELEMENT_SIZE as i64);
        b.ins().iadd(base, off)
    }

    /// `table.get`.
    pub fn table_get(&mut self, b: &mut FunctionBuilder, table: u32, index: Value) -> Value {
        let addr = self.table_elem_addr(b, table, index);
        b.ins().load(types::I64, MemFlagsData::trusted(), addr, 0)
    }

    /// `table.set`.
    pub fn table_set(&mut self, b: &mut FunctionBuilder, table: u32, index: Value, v: Value) {
        let addr = self.table_elem_addr(b, table, index);
        b.ins().store(MemFlagsData::trusted(), v, addr, 0);
    }

    /// `table.size`.
    pub fn table_size(&mut self, b: &mut FunctionBuilder, table: u32) -> Value {
        let def = self.table_def(b, table);
        let len = b.ins().load(types::I64, MemFlagsData::trusted(), def, o::TABLE_LENGTH as i32);
        b.ins().ireduce(types::I32, len)
    }

    fn funcref(&mut self, b: &mut FunctionBuilder, func: u32) -> Value {
        let arr = self.vmctx_field(b, o::VMCTX_FUNCS);
        self.fixed_load(b, arr, func as usize * 8)
    }

    /// `ref.func`: the funcref pointer.
    pub fn ref_func(&mut self, b: &mut FunctionBuilder, func: u32) -> Value {
        self.funcref(b, func)
    }

    // ---- calls ------------------------------------------------------------------

    fn sig_ref(&mut self, b: &mut FunctionBuilder, ty: u32) -> SigRef {
        if let Some(s) = self.sigs[ty as usize] {
            return s;
        }
        let s = b.import_signature(wasm_signature(&self.module.types[ty as usize]));
        self.sigs[ty as usize] = Some(s);
        self.sigs_set.push(ty);
        s
    }

    fn func_ref(&mut self, b: &mut FunctionBuilder, func: u32) -> FuncRef {
        if let Some(f) = self.funcs[func as usize] {
            return f;
        }
        let ty = self.module.funcs[func as usize];
        let signature = self.sig_ref(b, ty);
        let name = b.func.declare_imported_user_function(UserExternalName::new(0, func));
        let f = b.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.funcs[func as usize] = Some(f);
        self.funcs_set.push(func);
        f
    }

    /// Emits a call of `callee` (signature `sig`) with `args`: a plain call, or
    /// inside a `try_table` a `try_call` whose exceptional edge goes to `landing`
    /// (with the `exnref`); returns the results. With `tail` it is the tail call
    /// that replaces the caller's frame (`return_call`, no results): `landing` is
    /// then ignored, as the caller's handlers are gone with its frame (a
    /// `return_call` inside a `try_table` is not caught by it).
    fn emit_call(
        b: &mut FunctionBuilder,
        sig: SigRef,
        callee: Callee,
        args: &[Value],
        landing: Option<Block>,
        tail: bool,
    ) -> Vec<Value> {
        if tail {
            match callee {
                Callee::Direct(f) => b.ins().return_call(f, args),
                Callee::Indirect(code) => b.ins().return_call_indirect(sig, code, args),
            };
            return Vec::new();
        }
        let Some(landing) = landing else {
            let call = match callee {
                Callee::Direct(f) => b.ins().call(f, args),
                Callee::Indirect(code) => b.ins().call_indirect(sig, code, args),
            };
            return b.inst_results(call).to_vec();
        };
        let rets: Vec<Type> =
            b.func.dfg.signatures[sig].returns.iter().map(|r| r.value_type).collect();
        let cont = b.create_block();
        for &t in &rets {
            b.append_block_param(cont, t);
        }
        let pool = &mut b.func.dfg.value_lists;
        let normal = BlockCall::new(cont, (0..rets.len() as u32).map(BlockArg::TryCallRet), pool);
        let exc = BlockCall::new(landing, [BlockArg::TryCallExn(0)], pool);
        let et = b.func.dfg.exception_tables.push(ExceptionTableData::new(
            sig,
            normal,
            [ExceptionTableItem::Default(exc)],
        ));
        match callee {
            Callee::Direct(f) => b.ins().try_call(f, args, et),
            Callee::Indirect(code) => b.ins().try_call_indirect(code, args, et),
        };
        b.seal_block(cont);
        b.switch_to_block(cont);
        b.block_params(cont).to_vec()
    }

    /// Throws `exn` (an `i32` raw `exnref`, not null) through the module's throw
    /// stub, with a `try_call` to `landing` inside a `try_table`; the code after it
    /// is unreachable (a trap).
    pub fn throw(&mut self, b: &mut FunctionBuilder, exn: Value, landing: Option<Block>) {
        let stub = match self.throw_stub {
            Some(f) => f,
            None => {
                let mut sig = Signature::new(CallConv::SystemV);
                sig.params.push(AbiParam::new(types::I64));
                sig.params.push(AbiParam::new(types::I32));
                let signature = b.import_signature(sig);
                let name = b
                    .func
                    .declare_imported_user_function(UserExternalName::new(THROW_STUB_NAMESPACE, 0));
                let f = b.import_function(ExtFuncData {
                    name: ExternalName::user(name),
                    signature,
                    colocated: true,
                    patchable: false,
                });
                *self.throw_stub.insert(f)
            }
        };
        let sig = b.func.dfg.ext_funcs[stub].signature;
        let vmctx = self.vmctx(b);
        Self::emit_call(b, sig, Callee::Direct(stub), &[vmctx, exn], landing, false);
        b.ins().trap(trap::UNREACHABLE);
    }

    /// `call func` with `args` (a `try_call` to `landing` inside a `try_table`;
    /// with `tail`, `return_call func`); returns the results.
    pub fn call(
        &mut self,
        b: &mut FunctionBuilder,
        func: u32,
        args: &[Value],
        landing: Option<Block>,
        tail: bool,
    ) -> Vec<Value> {
        let vmctx = self.vmctx(b);
        let mut all = Vec::with_capacity(args.len() + 2);
        if self.call_events {
            let fr = self.funcref(b, func);
            self.libcall(b, Libcall::WasmCallEvent, &[fr]);
        }
        if func >= self.module.num_imported_funcs {
            let f = self.func_ref(b, func);
            all.extend([vmctx, vmctx]);
            all.extend_from_slice(args);
            let sig = b.func.dfg.ext_funcs[f].signature;
            return Self::emit_call(b, sig, Callee::Direct(f), &all, landing, tail);
        }
        let fr = self.funcref(b, func);
        let code = self.fixed_load(b, fr, o::FUNCREF_CODE);
        let callee = self.fixed_load(b, fr, o::FUNCREF_VMCTX);
        all.extend([callee, vmctx]);
        all.extend_from_slice(args);
        let sig = self.sig_ref(b, self.module.funcs[func as usize]);
        Self::emit_call(b, sig, Callee::Indirect(code), &all, landing, tail)
    }

    /// `call_indirect (type ty) (table t)` through element `index` (with `tail`,
    /// `return_call_indirect`; `landing` as for [`FuncEnv::call`]).
    #[allow(clippy::too_many_arguments)]
    pub fn call_indirect(
        &mut self,
        b: &mut FunctionBuilder,
        ty: u32,
        table: u32,
        index: Value,
        args: &[Value],
        landing: Option<Block>,
        tail: bool,
    ) -> Vec<Value> {
        let addr = self.table_elem_addr(b, table, index);
        let fr = b.ins().load(types::I64, MemFlagsData::trusted(), addr, 0);
        b.ins().trapz(fr, trap::INDIRECT_CALL_TO_NULL);
        let sig = b.ins().load(types::I32, MemFlagsData::trusted(), fr, o::FUNCREF_SIG as i32);
        let sigs = self.vmctx_field(b, o::VMCTX_SIGS);
        let want = b.ins().load(types::I32, fixed(), sigs, (ty as usize * 4) as i32);
        let bad = b.ins().icmp(IntCC::NotEqual, sig, want);
        b.ins().trapnz(bad, trap::BAD_SIGNATURE);
        self.call_funcref(b, ty, fr, args, landing, tail)
    }

    /// `call_ref (type ty)` of funcref `fr` (a `try_call` to `landing` inside a
    /// `try_table`; with `tail`, `return_call_ref`): null traps; the type needs
    /// no check (validation proved it).
    pub fn call_ref(
        &mut self,
        b: &mut FunctionBuilder,
        ty: u32,
        fr: Value,
        args: &[Value],
        landing: Option<Block>,
        tail: bool,
    ) -> Vec<Value> {
        b.ins().trapz(fr, trap::NULL_FUNCTION_REFERENCE);
        self.call_funcref(b, ty, fr, args, landing, tail)
    }

    /// Calls the function of funcref `fr` (not null, of type `ty`) with `args`, as
    /// [`Self::call_indirect`] and [`Self::call_ref`] do once they have checked it.
    fn call_funcref(
        &mut self,
        b: &mut FunctionBuilder,
        ty: u32,
        fr: Value,
        args: &[Value],
        landing: Option<Block>,
        tail: bool,
    ) -> Vec<Value> {
        if self.call_events {
            self.libcall(b, Libcall::WasmCallEvent, &[fr]);
        }
        let code = b.ins().load(types::I64, MemFlagsData::trusted(), fr, o::FUNCREF_CODE as i32);
        let callee = b.ins().load(types::I64, MemFlagsData::trusted(), fr, o::FUNCREF_VMCTX as i32);
        let vmctx = self.vmctx(b);
        let mut all = Vec::with_capacity(args.len() + 2);
        all.extend([callee, vmctx]);
        all.extend_from_slice(args);
        let sig = self.sig_ref(b, ty);
        Self::emit_call(b, sig, Callee::Indirect(code), &all, landing, tail)
    }

    // ---- runtime functions ------------------------------------------------------

    /// Calls runtime function `lc` with the context prepended to `args`; returns its
    /// result, if it has one.
    pub fn libcall(
        &mut self,
        b: &mut FunctionBuilder,
        lc: Libcall,
        args: &[Value],
    ) -> Option<Value> {
        let sig = match self.libcall_sigs[lc as usize] {
            Some(s) => s,
            None => {
                let s = b.import_signature(libcall_signature(lc));
                self.libcall_sigs[lc as usize] = Some(s);
                s
            }
        };
        let store = self.vmctx_field(b, o::VMCTX_STORE);
        let table =
            b.ins().load(types::I64, MemFlagsData::trusted(), store, o::STORE_LIBCALLS as i32);
        let f = self.fixed_load(b, table, lc as usize * 8);
        let vmctx = self.vmctx(b);
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(vmctx);
        all.extend_from_slice(args);
        let call = b.ins().call_indirect(sig, f, &all);
        b.inst_results(call).first().copied()
    }

    /// Calls a runtime function that returns a status; traps when it failed.
    pub fn libcall_checked(&mut self, b: &mut FunctionBuilder, lc: Libcall, args: &[Value]) {
        if let Some(status) = self.libcall(b, lc, args) {
            b.ins().trapnz(status, trap::PENDING);
        }
    }

    // ---- fuel and interruption (vm_core::runtime::limits) -----------------------

    fn store_ctx(&mut self, b: &mut FunctionBuilder) -> Value {
        self.vmctx_field(b, o::VMCTX_STORE)
    }

    /// Charges a run's cost to the store's fuel, then with `check` traps with "out
    /// of fuel" when the fuel left is below zero. Returns the instruction holding the
    /// cost (a placeholder until the run's end is known: [`FuncEnv::set_run_cost`]).
    pub fn fuel_charge(&mut self, b: &mut FunctionBuilder, check: bool) -> ir::Inst {
        let state = self.vmctx_field(b, o::VMCTX_STATE);
        let cost = b.ins().iconst(types::I64, 0);
        let inst = b.func.dfg.value_def(cost).unwrap_inst();
        let flags = MemFlagsData::trusted();
        let f = b.ins().load(types::I64, flags, state, o::STATE_FUEL as i32);
        let f = b.ins().isub(f, cost);
        b.ins().store(flags, f, state, o::STATE_FUEL as i32);
        if check {
            let neg = b.ins().icmp_imm_s(IntCC::SignedLessThan, f, 0);
            b.ins().trapnz(neg, trap::OUT_OF_FUEL);
        }
        inst
    }

    /// Sets the cost charged by a [`FuncEnv::fuel_charge`].
    pub fn set_run_cost(b: &mut FunctionBuilder, inst: ir::Inst, cost: u64) {
        b.func.replace(inst).iconst(types::I64, cost as i64);
    }

    /// Traps with "interrupted" when the store's interrupt flag is set.
    pub fn interrupt_check(&mut self, b: &mut FunctionBuilder) {
        let store = self.store_ctx(b);
        let flag = self.fixed_load(b, store, o::STORE_INTERRUPT);
        // An atomic load (a plain `mov` on x86-64): another thread writes the flag,
        // so no earlier load of it may stand in for this one.
        let v = b.ins().atomic_load(types::I32, MemFlagsData::trusted(), flag);
        b.ins().trapnz(v, trap::INTERRUPTED);
    }
}
