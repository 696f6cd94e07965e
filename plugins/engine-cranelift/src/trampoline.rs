//! Trampolines, one pair per function type of a module:
//!
//! - the *entry* trampoline lets the host call a wasm function: it takes the callee
//!   and caller contexts, the function's code and a buffer of 16-byte slots, loads the
//!   parameters from the buffer, calls the code and stores the results back;
//! - the *host-call* trampoline has the wasm calling convention and stands in for a
//!   host function: it spills the arguments into a stack buffer and calls the
//!   runtime's host-call function with the host function's funcref (passed as the
//!   callee context) and the caller's context; a failure becomes a trap, and an
//!   exception the host function threw is thrown on through the module's throw stub.

use cranelift_codegen::ir::{
    self, AbiParam, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, condcodes::IntCC,
    types,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use vm_core::runtime::FuncType;
use vm_core::runtime::offsets as o;

use crate::env::{Libcall, ir_type, trap, wasm_signature};

const SLOT: i32 = 16;

/// Fills `func` with the entry trampoline for `ty`.
pub fn entry(
    func: &mut ir::Function,
    fctx: &mut FunctionBuilderContext,
    ty: &FuncType,
    cfg: TargetFrontendConfig,
) {
    let mut sig = ir::Signature::new(CallConv::SystemV);
    sig.params.extend([AbiParam::new(types::I64); 4]);
    func.signature = sig;
    let mut b = FunctionBuilder::new(func, fctx);
    let blk = b.create_block();
    b.append_block_params_for_function_params(blk);
    b.switch_to_block(blk);
    b.seal_block(blk);
    let p = b.block_params(blk).to_vec();
    let (callee, caller, code, buf) = (p[0], p[1], p[2], p[3]);
    let flags = MemFlagsData::trusted();
    let mut args = vec![callee, caller];
    for (i, &t) in ty.params().iter().enumerate() {
        args.push(b.ins().load(ir_type(t), flags, buf, i as i32 * SLOT));
    }
    let sig = b.import_signature(wasm_signature(ty));
    let call = b.ins().call_indirect(sig, code, &args);
    let results = b.inst_results(call).to_vec();
    for (i, r) in results.into_iter().enumerate() {
        b.ins().store(flags, r, buf, i as i32 * SLOT);
    }
    b.ins().return_(&[]);
    b.finalize(cfg);
}

/// Fills `func` with the host-call trampoline for `ty`.
pub fn host_call(
    func: &mut ir::Function,
    fctx: &mut FunctionBuilderContext,
    ty: &FuncType,
    cfg: TargetFrontendConfig,
) {
    func.signature = wasm_signature(ty);
    let mut b = FunctionBuilder::new(func, fctx);
    let blk = b.create_block();
    b.append_block_params_for_function_params(blk);
    b.switch_to_block(blk);
    b.seal_block(blk);
    let p = b.block_params(blk).to_vec();
    let (funcref, caller) = (p[0], p[1]);
    let n = ty.params().len().max(ty.results().len()).max(1);
    let ss = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        (n as u32) * SLOT as u32,
        4,
    ));
    let buf = b.ins().stack_addr(types::I64, ss, 0);
    let flags = MemFlagsData::trusted();
    for (i, &v) in p[2..].iter().enumerate() {
        b.ins().store(flags, v, buf, i as i32 * SLOT);
    }
    let store = b.ins().load(types::I64, flags, caller, o::VMCTX_STORE as i32);
    let table = b.ins().load(types::I64, flags, store, o::STORE_LIBCALLS as i32);
    let f = b.ins().load(types::I64, flags, table, (Libcall::HostCall as usize * 8) as i32);
    let mut sig = ir::Signature::new(CallConv::SystemV);
    sig.params.extend([AbiParam::new(types::I64); 3]);
    sig.returns.push(AbiParam::new(types::I32));
    let sig = b.import_signature(sig);
    let call = b.ins().call_indirect(sig, f, &[caller, funcref, buf]);
    let status = b.inst_results(call)[0];
    let (fail, ok) = (b.create_block(), b.create_block());
    b.ins().brif(status, fail, &[], ok, &[]);
    b.seal_block(fail);
    b.seal_block(ok);
    b.switch_to_block(fail);
    // Status 2: the host function threw; throw it on from here (the unwinder
    // passes this frame like a wasm one).
    let threw = b.ins().icmp_imm_u(IntCC::Equal, status, 2);
    b.ins().trapz(threw, trap::PENDING);
    let state = b.ins().load(types::I64, flags, caller, o::VMCTX_STATE as i32);
    let exn = b.ins().load(types::I32, flags, state, o::STATE_EXN_REF as i32);
    let mut stub_sig = ir::Signature::new(CallConv::SystemV);
    stub_sig.params.extend([AbiParam::new(types::I64), AbiParam::new(types::I32)]);
    let signature = b.import_signature(stub_sig);
    let name = b.func.declare_imported_user_function(ir::UserExternalName::new(
        crate::env::THROW_STUB_NAMESPACE,
        0,
    ));
    let stub = b.import_function(ir::ExtFuncData {
        name: ir::ExternalName::user(name),
        signature,
        colocated: true,
        patchable: false,
    });
    b.ins().call(stub, &[caller, exn]);
    b.ins().trap(trap::UNREACHABLE);
    b.switch_to_block(ok);
    let results: Vec<_> = ty
        .results()
        .iter()
        .enumerate()
        .map(|(i, &t)| b.ins().load(ir_type(t), flags, buf, i as i32 * SLOT))
        .collect();
    b.ins().return_(&results);
    b.finalize(cfg);
}
