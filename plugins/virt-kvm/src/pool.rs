//! Prepared sandboxes, so starting one does not pay for building a VM.

use std::sync::Mutex;

use kvm_bindings::{CpuId, KVM_MAX_CPUID_ENTRIES};
use kvm_ioctls::Kvm;

use crate::error::KvmError;
use crate::sandbox::{Sandbox, SandboxConfig};

/// A set of idle, fully set-up sandboxes (VM, vCPU in 64-bit mode, page
/// tables, descriptor tables, stacks). [`Pool::acquire`] hands one out (or
/// builds one when none is idle); [`Pool::release`] resets it — every region
/// its user registered is removed, stacks and registers cleared — and keeps it.
#[derive(Debug)]
pub struct Pool {
    kvm: Kvm,
    cpuid: CpuId,
    config: SandboxConfig,
    idle: Mutex<Vec<Sandbox>>,
    max_idle: usize,
    /// Owners of memory idle sandboxes keep mapped (dropped after them).
    keep: Mutex<Vec<std::sync::Arc<dyn std::any::Any + Send + Sync>>>,
}

impl Pool {
    /// Opens `/dev/kvm` and prepares `prepared` sandboxes; at most `max_idle`
    /// are kept idle.
    ///
    /// # Errors
    ///
    /// [`KvmError::Unavailable`] when `/dev/kvm` cannot be opened, and the
    /// errors of [`Sandbox::new`].
    pub fn new(config: SandboxConfig, prepared: usize, max_idle: usize) -> Result<Self, KvmError> {
        let kvm = Kvm::new().map_err(|e| KvmError::Unavailable { errno: e.errno() })?;
        let cpuid = kvm
            .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
            .map_err(|e| KvmError::ioctl("KVM_GET_SUPPORTED_CPUID", e))?;
        let pool = Pool {
            kvm,
            cpuid,
            config,
            idle: Mutex::new(Vec::new()),
            max_idle,
            keep: Mutex::new(Vec::new()),
        };
        let mut ready = Vec::with_capacity(prepared);
        for _ in 0..prepared {
            ready.push(pool.create()?);
        }
        *pool.lock() = ready;
        Ok(pool)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Sandbox>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Builds a sandbox from nothing (what [`Pool::acquire`] saves).
    ///
    /// # Errors
    ///
    /// Those of [`Sandbox::new`].
    pub fn create(&self) -> Result<Sandbox, KvmError> {
        Sandbox::new(&self.kvm, &self.cpuid, &self.config)
    }

    /// An idle sandbox, or a new one.
    ///
    /// # Errors
    ///
    /// Those of [`Sandbox::new`] when none is idle.
    pub fn acquire(&self) -> Result<Sandbox, KvmError> {
        let idle = self.lock().pop();
        match idle {
            Some(sb) => Ok(sb),
            None => self.create(),
        }
    }

    /// Resets `sandbox` and keeps it for the next [`Pool::acquire`]; drops it
    /// if the reset fails or the pool is full.
    pub fn release(&self, mut sandbox: Sandbox) {
        if self.lock().len() >= self.max_idle || sandbox.reset().is_err() {
            return;
        }
        let mut idle = self.lock();
        if idle.len() < self.max_idle {
            idle.push(sandbox);
        }
    }

    /// Keeps `owner` alive as long as the pool: memory that sandboxes keep
    /// mapped across resets ([`Sandbox::map_kept`]) belongs to it.
    pub fn keep_alive(&self, owner: std::sync::Arc<dyn std::any::Any + Send + Sync>) {
        self.keep.lock().unwrap_or_else(|e| e.into_inner()).push(owner);
    }

    /// How many sandboxes are idle.
    pub fn idle(&self) -> usize {
        self.lock().len()
    }
}
