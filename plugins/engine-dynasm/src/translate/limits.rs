//! Fuel and interruption, as `vm_core::runtime::limits` defines them for every
//! engine: a function body is cut into runs ([`limits::run_after`]); each run is
//! charged its cost (one unit per reachable operator) on entry with one
//! `sub qword [state.fuel], cost` (the cost patched in when the run ends); at the
//! function entry and at loop headers the charge is followed by a check (`js` to an
//! "out of fuel" trap) and, with interruption compiled in, by a read of the store's
//! interrupt flag ("interrupted"). With neither configured, nothing is emitted.

use dynasm::dynasm;
use dynasmrt::{DynasmApi, DynasmLabelApi};
use vm_core::runtime::limits::{self, RunStart};
use vm_core::runtime::offsets as o;
use vm_core::runtime::{CompileError, TrapCode};
use wasmparser::Operator;

use super::FuncCompiler;

impl FuncCompiler<'_, '_> {
    /// Starts a run of kind `kind` here (ending the current one).
    pub(super) fn start_run(&mut self, kind: RunStart) -> Result<(), CompileError> {
        self.finish_run()?;
        let check = kind == RunStart::Check;
        if self.env.fuel {
            self.vmctx_field(super::reg::SCRATCH, o::VMCTX_STATE as i32);
            dynasm!(self.ops
                ; .arch x64
                ; sub QWORD [r11 + o::STATE_FUEL as i32], 0x7fff_0000
            );
            self.run = Some((self.ops.offset().0, 0));
            if check {
                let out = self.trap_label(TrapCode::OutOfFuel);
                dynasm!(self.ops ; .arch x64 ; js =>out);
            }
        }
        if check && self.env.interrupt {
            let stop = self.trap_label(TrapCode::Interrupted);
            self.vmctx_field(super::reg::SCRATCH, o::VMCTX_STORE as i32);
            dynasm!(self.ops
                ; .arch x64
                ; mov r11, [r11 + o::STORE_INTERRUPT as i32]
                ; cmp DWORD [r11], 0
                ; jne =>stop
            );
        }
        Ok(())
    }

    /// Writes the cost of the run that ends here into its charge.
    pub(super) fn finish_run(&mut self) -> Result<(), CompileError> {
        if let Some((at, cost)) = self.run.take() {
            let cost = i32::try_from(cost)
                .map_err(|_| CompileError::Limit("engine-dynasm: a fuel run of 2^31 operators"))?;
            self.sites.patches.push((at, cost));
        }
        Ok(())
    }

    /// Starts the next run where vm-core's definition says (`next`, from
    /// [`limits::run_after`] of the operator just translated).
    pub(super) fn after_op(&mut self, next: Option<RunStart>) -> Result<(), CompileError> {
        if let Some(kind) = next
            && self.reachable
            && !self.controls.is_empty()
            && self.env.limits_on()
        {
            self.start_run(kind)?;
        }
        Ok(())
    }

    /// Counts reachable operator `op` in the current run.
    pub(super) fn charge(&mut self, op: &Operator<'_>) {
        if let Some((_, cost)) = &mut self.run {
            *cost += limits::cost(op);
        }
    }
}
