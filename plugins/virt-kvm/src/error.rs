//! The one error type of the crate.

/// What went wrong setting up or running a micro-VM.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KvmError {
    /// `/dev/kvm` could not be opened.
    #[error("KVM is unavailable: opening /dev/kvm failed with errno {errno}")]
    Unavailable {
        /// The `errno` of the failed `open`.
        errno: i32,
    },
    /// A KVM ioctl failed.
    #[error("KVM ioctl {op} failed with errno {errno}")]
    Ioctl {
        /// The operation, named after the ioctl.
        op: &'static str,
        /// The `errno` it returned.
        errno: i32,
    },
    /// A host `mmap`, `mprotect` or `madvise` failed.
    #[error("host memory operation {op} failed with errno {errno}")]
    HostMemory {
        /// The system call.
        op: &'static str,
        /// The `errno` it returned.
        errno: i32,
    },
    /// An address or length is not a multiple of 4 KiB, is empty, or is not in
    /// the canonical lower half.
    #[error("range {addr:#x}+{len:#x} is not page aligned, empty or outside the lower half")]
    BadRange {
        /// Start of the range.
        addr: u64,
        /// Its length in bytes.
        len: u64,
    },
    /// The range overlaps a region that is already registered.
    #[error("range {addr:#x}+{len:#x} overlaps a registered region")]
    Overlap {
        /// Start of the range.
        addr: u64,
        /// Its length in bytes.
        len: u64,
    },
    /// The range is not inside one registered region.
    #[error("range {addr:#x}+{len:#x} is not inside one registered region")]
    NotRegistered {
        /// Start of the range.
        addr: u64,
        /// Its length in bytes.
        len: u64,
    },
    /// Every KVM memory slot is in use.
    #[error("no free KVM memory slot (the VM has {max})")]
    OutOfSlots {
        /// How many slots the VM has.
        max: u32,
    },
    /// The page-table area of the VM is full.
    #[error("the page-table area is full ({pages} pages)")]
    OutOfPageTables {
        /// Its size in 4 KiB pages.
        pages: u64,
    },
    /// [`Sandbox::resume`](crate::Sandbox::resume) was called while no host call
    /// was pending.
    #[error("no host call is pending")]
    NoHostCall,
    /// The store has no micro-VM (it has no instance yet).
    #[error("the store has no micro-VM yet")]
    NoVm,
    /// The guest stack pointer recorded by a host-call stub is not inside the
    /// guest stack, so no nested frame can be pushed below it.
    #[error("guest stack pointer {rsp:#x} is outside the guest stack")]
    BadGuestStack {
        /// The recorded stack pointer.
        rsp: u64,
    },
    /// The vCPU stopped for a reason this layer does not produce.
    #[error("unexpected vCPU exit: {0:?}")]
    UnexpectedExit(UnexpectedExit),
}

/// A vCPU exit that none of the crate's guest code causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnexpectedExit {
    /// `out` on a port the crate does not define.
    IoOut {
        /// The port.
        port: u16,
    },
    /// `in` from any port.
    IoIn {
        /// The port.
        port: u16,
    },
    /// An access to guest-physical memory no slot backs.
    Mmio {
        /// The guest-physical address.
        addr: u64,
    },
    /// `hlt`.
    Hlt,
    /// A triple fault (for instance a fault while reporting a fault).
    Shutdown,
    /// KVM could not run or emulate the guest.
    InternalError {
        /// `kvm_run.internal.suberror`.
        suberror: u32,
    },
    /// The hardware refused to enter the guest.
    FailEntry {
        /// The hardware reason.
        reason: u64,
    },
    /// Any other exit.
    Other,
}

impl KvmError {
    pub(crate) fn ioctl(op: &'static str, e: kvm_ioctls::Error) -> Self {
        KvmError::Ioctl { op, errno: e.errno() }
    }

    pub(crate) fn host(op: &'static str) -> Self {
        KvmError::HostMemory {
            op,
            errno: std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        }
    }
}
