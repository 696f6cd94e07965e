//! The preview1 ABI: errno values, flags, rights and the byte layouts of the structs
//! guests read (`fdstat`, `filestat`, `prestat`, `dirent`, `event`), and in
//! [`preview0`] the few places where `wasi_unstable` differs.
//!
//! Numbers follow `wasi_snapshot_preview1.witx`; layouts are little-endian with the
//! witx alignment (all offsets below are from that file's C layout).

use thiserror::Error;

/// A WASI errno. `0` (success) is not a variant: success is `Ok(())`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
#[repr(u16)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is the POSIX errno of the same name
pub enum Errno {
    #[error("argument list too long")]
    TooBig = 1,
    #[error("permission denied")]
    Acces = 2,
    #[error("address in use")]
    Addrinuse = 3,
    #[error("address not available")]
    Addrnotavail = 4,
    #[error("address family not supported")]
    Afnosupport = 5,
    #[error("resource unavailable, try again")]
    Again = 6,
    #[error("connection already in progress")]
    Already = 7,
    #[error("bad file descriptor")]
    Badf = 8,
    #[error("bad message")]
    Badmsg = 9,
    #[error("device or resource busy")]
    Busy = 10,
    #[error("operation canceled")]
    Canceled = 11,
    #[error("no child processes")]
    Child = 12,
    #[error("connection aborted")]
    Connaborted = 13,
    #[error("connection refused")]
    Connrefused = 14,
    #[error("connection reset")]
    Connreset = 15,
    #[error("resource deadlock would occur")]
    Deadlk = 16,
    #[error("destination address required")]
    Destaddrreq = 17,
    #[error("argument out of domain")]
    Dom = 18,
    #[error("disk quota exceeded")]
    Dquot = 19,
    #[error("file exists")]
    Exist = 20,
    #[error("bad address")]
    Fault = 21,
    #[error("file too large")]
    Fbig = 22,
    #[error("host is unreachable")]
    Hostunreach = 23,
    #[error("identifier removed")]
    Idrm = 24,
    #[error("illegal byte sequence")]
    Ilseq = 25,
    #[error("operation in progress")]
    Inprogress = 26,
    #[error("interrupted function")]
    Intr = 27,
    #[error("invalid argument")]
    Inval = 28,
    #[error("I/O error")]
    Io = 29,
    #[error("socket is connected")]
    Isconn = 30,
    #[error("is a directory")]
    Isdir = 31,
    #[error("too many levels of symbolic links")]
    Loop = 32,
    #[error("file descriptor value too large")]
    Mfile = 33,
    #[error("too many links")]
    Mlink = 34,
    #[error("message too large")]
    Msgsize = 35,
    #[error("multihop attempted")]
    Multihop = 36,
    #[error("filename too long")]
    Nametoolong = 37,
    #[error("network is down")]
    Netdown = 38,
    #[error("connection aborted by network")]
    Netreset = 39,
    #[error("network unreachable")]
    Netunreach = 40,
    #[error("too many files open in system")]
    Nfile = 41,
    #[error("no buffer space available")]
    Nobufs = 42,
    #[error("no such device")]
    Nodev = 43,
    #[error("no such file or directory")]
    Noent = 44,
    #[error("executable file format error")]
    Noexec = 45,
    #[error("no locks available")]
    Nolck = 46,
    #[error("link has been severed")]
    Nolink = 47,
    #[error("not enough space")]
    Nomem = 48,
    #[error("no message of the desired type")]
    Nomsg = 49,
    #[error("protocol not available")]
    Noprotoopt = 50,
    #[error("no space left on device")]
    Nospc = 51,
    #[error("function not supported")]
    Nosys = 52,
    #[error("the socket is not connected")]
    Notconn = 53,
    #[error("not a directory")]
    Notdir = 54,
    #[error("directory not empty")]
    Notempty = 55,
    #[error("state not recoverable")]
    Notrecoverable = 56,
    #[error("not a socket")]
    Notsock = 57,
    #[error("not supported")]
    Notsup = 58,
    #[error("inappropriate I/O control operation")]
    Notty = 59,
    #[error("no such device or address")]
    Nxio = 60,
    #[error("value too large to be stored in data type")]
    Overflow = 61,
    #[error("previous owner died")]
    Ownerdead = 62,
    #[error("operation not permitted")]
    Perm = 63,
    #[error("broken pipe")]
    Pipe = 64,
    #[error("protocol error")]
    Proto = 65,
    #[error("protocol not supported")]
    Protonosupport = 66,
    #[error("protocol wrong type for socket")]
    Prototype = 67,
    #[error("result too large")]
    Range = 68,
    #[error("read-only file system")]
    Rofs = 69,
    #[error("invalid seek")]
    Spipe = 70,
    #[error("no such process")]
    Srch = 71,
    #[error("stale file handle")]
    Stale = 72,
    #[error("connection timed out")]
    Timedout = 73,
    #[error("text file busy")]
    Txtbsy = 74,
    #[error("cross-device link")]
    Xdev = 75,
    #[error("capabilities insufficient (outside the preopened directories)")]
    Notcapable = 76,
}

impl From<Errno> for i32 {
    fn from(e: Errno) -> i32 {
        e as u16 as i32
    }
}

impl From<rustix::io::Errno> for Errno {
    fn from(e: rustix::io::Errno) -> Errno {
        use rustix::io::Errno as E;
        match e {
            E::TOOBIG => Errno::TooBig,
            E::ACCESS => Errno::Acces,
            E::ADDRINUSE => Errno::Addrinuse,
            E::ADDRNOTAVAIL => Errno::Addrnotavail,
            E::AFNOSUPPORT => Errno::Afnosupport,
            E::AGAIN => Errno::Again,
            E::ALREADY => Errno::Already,
            E::BADF => Errno::Badf,
            E::BADMSG => Errno::Badmsg,
            E::BUSY => Errno::Busy,
            E::CANCELED => Errno::Canceled,
            E::CHILD => Errno::Child,
            E::CONNABORTED => Errno::Connaborted,
            E::CONNREFUSED => Errno::Connrefused,
            E::CONNRESET => Errno::Connreset,
            E::DEADLK => Errno::Deadlk,
            E::DESTADDRREQ => Errno::Destaddrreq,
            E::DOM => Errno::Dom,
            E::DQUOT => Errno::Dquot,
            E::EXIST => Errno::Exist,
            E::FAULT => Errno::Fault,
            E::FBIG => Errno::Fbig,
            E::HOSTUNREACH => Errno::Hostunreach,
            E::IDRM => Errno::Idrm,
            E::ILSEQ => Errno::Ilseq,
            E::INPROGRESS => Errno::Inprogress,
            E::INTR => Errno::Intr,
            E::INVAL => Errno::Inval,
            E::ISCONN => Errno::Isconn,
            E::ISDIR => Errno::Isdir,
            E::LOOP => Errno::Loop,
            E::MFILE => Errno::Mfile,
            E::MLINK => Errno::Mlink,
            E::MSGSIZE => Errno::Msgsize,
            E::MULTIHOP => Errno::Multihop,
            E::NAMETOOLONG => Errno::Nametoolong,
            E::NETDOWN => Errno::Netdown,
            E::NETRESET => Errno::Netreset,
            E::NETUNREACH => Errno::Netunreach,
            E::NFILE => Errno::Nfile,
            E::NOBUFS => Errno::Nobufs,
            E::NODEV => Errno::Nodev,
            E::NOENT => Errno::Noent,
            E::NOEXEC => Errno::Noexec,
            E::NOLCK => Errno::Nolck,
            E::NOLINK => Errno::Nolink,
            E::NOMEM => Errno::Nomem,
            E::NOMSG => Errno::Nomsg,
            E::NOPROTOOPT => Errno::Noprotoopt,
            E::NOSPC => Errno::Nospc,
            E::NOSYS => Errno::Nosys,
            E::NOTCONN => Errno::Notconn,
            E::NOTDIR => Errno::Notdir,
            E::NOTEMPTY => Errno::Notempty,
            E::NOTRECOVERABLE => Errno::Notrecoverable,
            E::NOTSOCK => Errno::Notsock,
            E::NOTSUP => Errno::Notsup,
            E::NOTTY => Errno::Notty,
            E::NXIO => Errno::Nxio,
            E::OVERFLOW => Errno::Overflow,
            E::OWNERDEAD => Errno::Ownerdead,
            E::PERM => Errno::Perm,
            E::PIPE => Errno::Pipe,
            E::PROTO => Errno::Proto,
            E::PROTONOSUPPORT => Errno::Protonosupport,
            E::PROTOTYPE => Errno::Prototype,
            E::RANGE => Errno::Range,
            E::ROFS => Errno::Rofs,
            E::SPIPE => Errno::Spipe,
            E::SRCH => Errno::Srch,
            E::STALE => Errno::Stale,
            E::TIMEDOUT => Errno::Timedout,
            E::TXTBSY => Errno::Txtbsy,
            E::XDEV => Errno::Xdev,
            _ => Errno::Io,
        }
    }
}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Errno {
        match e.raw_os_error() {
            Some(raw) => rustix::io::Errno::from_raw_os_error(raw).into(),
            None => Errno::Io,
        }
    }
}

/// `filetype`.
pub mod filetype {
    /// Unknown (pipes, and anything else without a preview1 type).
    pub const UNKNOWN: u8 = 0;
    /// Block device.
    pub const BLOCK_DEVICE: u8 = 1;
    /// Character device (terminals).
    pub const CHARACTER_DEVICE: u8 = 2;
    /// Directory.
    pub const DIRECTORY: u8 = 3;
    /// Regular file.
    pub const REGULAR_FILE: u8 = 4;
    /// Datagram socket.
    pub const SOCKET_DGRAM: u8 = 5;
    /// Stream socket.
    pub const SOCKET_STREAM: u8 = 6;
    /// Symbolic link.
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// `fdflags`.
pub mod fdflags {
    /// Append mode.
    pub const APPEND: u16 = 1;
    /// Synchronized data integrity writes.
    pub const DSYNC: u16 = 2;
    /// Non-blocking mode.
    pub const NONBLOCK: u16 = 4;
    /// Synchronized read I/O.
    pub const RSYNC: u16 = 8;
    /// Synchronized file integrity writes.
    pub const SYNC: u16 = 16;
}

/// `oflags` of `path_open`.
pub mod oflags {
    /// Create the file if it does not exist.
    pub const CREAT: u16 = 1;
    /// Fail if not a directory.
    pub const DIRECTORY: u16 = 2;
    /// Fail if the file exists.
    pub const EXCL: u16 = 4;
    /// Truncate to size 0.
    pub const TRUNC: u16 = 8;
}

/// `lookupflags`.
pub mod lookupflags {
    /// Follow a symbolic link in the last component.
    pub const SYMLINK_FOLLOW: u32 = 1;
}

/// `fstflags` of the `*_set_times` functions.
pub mod fstflags {
    /// Set the access time to the given value.
    pub const ATIM: u16 = 1;
    /// Set the access time to now.
    pub const ATIM_NOW: u16 = 2;
    /// Set the modification time to the given value.
    pub const MTIM: u16 = 4;
    /// Set the modification time to now.
    pub const MTIM_NOW: u16 = 8;
}

/// `clockid`.
pub mod clockid {
    /// Wall-clock time.
    pub const REALTIME: u32 = 0;
    /// Monotonic time.
    pub const MONOTONIC: u32 = 1;
    /// CPU time of the process.
    pub const PROCESS_CPUTIME_ID: u32 = 2;
    /// CPU time of the thread.
    pub const THREAD_CPUTIME_ID: u32 = 3;
}

/// `rights`: preview1's capability bits, reported by `fd_fdstat_get`.
pub mod rights {
    /// `fd_datasync`.
    pub const FD_DATASYNC: u64 = 1 << 0;
    /// `fd_read`.
    pub const FD_READ: u64 = 1 << 1;
    /// `fd_seek`.
    pub const FD_SEEK: u64 = 1 << 2;
    /// `fd_fdstat_set_flags`.
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    /// `fd_sync`.
    pub const FD_SYNC: u64 = 1 << 4;
    /// `fd_tell`.
    pub const FD_TELL: u64 = 1 << 5;
    /// `fd_write`.
    pub const FD_WRITE: u64 = 1 << 6;
    /// `fd_advise`.
    pub const FD_ADVISE: u64 = 1 << 7;
    /// `fd_allocate`.
    pub const FD_ALLOCATE: u64 = 1 << 8;
    /// `path_create_directory`.
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    /// `path_open` with `CREAT`.
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    /// `path_link` source.
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    /// `path_link` target.
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    /// `path_open`.
    pub const PATH_OPEN: u64 = 1 << 13;
    /// `fd_readdir`.
    pub const FD_READDIR: u64 = 1 << 14;
    /// `path_readlink`.
    pub const PATH_READLINK: u64 = 1 << 15;
    /// `path_rename` source.
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    /// `path_rename` target.
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    /// `path_filestat_get`.
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    /// `path_filestat_set_size`.
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    /// `path_filestat_set_times`.
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    /// `fd_filestat_get`.
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    /// `fd_filestat_set_size`.
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    /// `fd_filestat_set_times`.
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    /// `path_symlink`.
    pub const PATH_SYMLINK: u64 = 1 << 24;
    /// `path_remove_directory`.
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    /// `path_unlink_file`.
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    /// `poll_oneoff` on read/write readiness.
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    /// `sock_shutdown`.
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    /// `sock_accept`.
    pub const SOCK_ACCEPT: u64 = 1 << 29;

    /// Rights of a regular file opened for reading and writing.
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
    /// Rights of a directory.
    pub const DIRECTORY: u64 = FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_ADVISE
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;
    /// Rights a terminal or pipe gets: no seek or tell, which is how wasi-libc's
    /// `isatty` recognizes a terminal.
    pub const STREAM: u64 =
        FD_READ | FD_WRITE | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE;
}

/// `fdstat` (24 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fdstat {
    /// `filetype`.
    pub filetype: u8,
    /// `fdflags`.
    pub flags: u16,
    /// Rights of the descriptor.
    pub rights_base: u64,
    /// Rights descriptors opened through it may have.
    pub rights_inheriting: u64,
}

impl Fdstat {
    /// The guest's bytes.
    pub fn encode(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[0] = self.filetype;
        b[2..4].copy_from_slice(&self.flags.to_le_bytes());
        b[8..16].copy_from_slice(&self.rights_base.to_le_bytes());
        b[16..24].copy_from_slice(&self.rights_inheriting.to_le_bytes());
        b
    }
}

/// `whence` of `fd_seek` (preview1 numbering; [`preview0::whence`] for
/// `wasi_unstable`).
pub mod whence {
    /// From the start of the file.
    pub const SET: u8 = 0;
    /// From the current offset.
    pub const CUR: u8 = 1;
    /// From the end of the file.
    pub const END: u8 = 2;
}

/// The base an `fd_seek` offset is relative to, decoded from either snapshot's
/// `whence`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whence {
    /// From the start of the file.
    Set,
    /// From the current offset.
    Cur,
    /// From the end of the file.
    End,
}

impl Whence {
    /// A preview1 `whence`; `None` for a value the witx does not define.
    pub fn preview1(raw: u32) -> Option<Whence> {
        match u8::try_from(raw).ok()? {
            whence::SET => Some(Whence::Set),
            whence::CUR => Some(Whence::Cur),
            whence::END => Some(Whence::End),
            _ => None,
        }
    }

    /// A preview0 (`wasi_unstable`) `whence`; `None` for a value the witx does not
    /// define.
    pub fn preview0(raw: u32) -> Option<Whence> {
        match u8::try_from(raw).ok()? {
            preview0::whence::CUR => Some(Whence::Cur),
            preview0::whence::END => Some(Whence::End),
            preview0::whence::SET => Some(Whence::Set),
            _ => None,
        }
    }
}

/// Size of a preview1 `filestat`.
pub const FILESTAT_SIZE: usize = 64;

/// `filestat` (64 bytes; 56 in preview0, see [`Filestat::encode_preview0`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Filestat {
    /// Device id.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// `filetype`.
    pub filetype: u8,
    /// Hard links.
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// Access time, ns since the epoch.
    pub atim: u64,
    /// Modification time, ns since the epoch.
    pub mtim: u64,
    /// Status change time, ns since the epoch.
    pub ctim: u64,
}

impl Filestat {
    /// The guest's bytes.
    pub fn encode(&self) -> [u8; FILESTAT_SIZE] {
        let mut b = [0u8; FILESTAT_SIZE];
        b[0..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16] = self.filetype;
        b[24..32].copy_from_slice(&self.nlink.to_le_bytes());
        b[32..40].copy_from_slice(&self.size.to_le_bytes());
        b[40..48].copy_from_slice(&self.atim.to_le_bytes());
        b[48..56].copy_from_slice(&self.mtim.to_le_bytes());
        b[56..64].copy_from_slice(&self.ctim.to_le_bytes());
        b
    }

    /// The guest's bytes in preview0's layout, where `nlink` is a `u32` `linkcount`
    /// (saturated) packed after `filetype`, so every later field moves 8 bytes down.
    pub fn encode_preview0(&self) -> [u8; preview0::FILESTAT_SIZE] {
        let nlink = u32::try_from(self.nlink).unwrap_or(u32::MAX);
        let mut b = [0u8; preview0::FILESTAT_SIZE];
        b[0..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16] = self.filetype;
        b[20..24].copy_from_slice(&nlink.to_le_bytes());
        b[24..32].copy_from_slice(&self.size.to_le_bytes());
        b[32..40].copy_from_slice(&self.atim.to_le_bytes());
        b[40..48].copy_from_slice(&self.mtim.to_le_bytes());
        b[48..56].copy_from_slice(&self.ctim.to_le_bytes());
        b
    }
}

/// Size of a `dirent` header; the name follows it.
pub const DIRENT_SIZE: usize = 24;

/// A `dirent` header: the cookie of the next entry, inode, name length, type.
pub fn dirent(next: u64, ino: u64, namlen: u32, filetype: u8) -> [u8; DIRENT_SIZE] {
    let mut b = [0u8; DIRENT_SIZE];
    b[0..8].copy_from_slice(&next.to_le_bytes());
    b[8..16].copy_from_slice(&ino.to_le_bytes());
    b[16..20].copy_from_slice(&namlen.to_le_bytes());
    b[20] = filetype;
    b
}

/// Where the fields of a `subscription` (`poll_oneoff`'s input) sit, in bytes from
/// its start. `userdata` (0), the tag (8) and a descriptor subscription's `fd` (16) are
/// the same in both snapshots; the clock subscription is not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubscriptionLayout {
    /// Size of one subscription (the stride of the array).
    pub size: usize,
    /// The clock subscription's `clockid` (`u32`).
    pub clock_id: usize,
    /// The clock subscription's `timeout` (`u64`).
    pub clock_timeout: usize,
    /// The clock subscription's `subclockflags` (`u16`).
    pub clock_flags: usize,
}

/// The preview1 `subscription`: the clock's `id` right after the tag's padding.
pub const SUBSCRIPTION: SubscriptionLayout =
    SubscriptionLayout { size: 48, clock_id: 16, clock_timeout: 24, clock_flags: 40 };

/// Size of a `subscription` in `poll_oneoff`'s input.
pub const SUBSCRIPTION_SIZE: usize = SUBSCRIPTION.size;
/// Size of an `event` in `poll_oneoff`'s output.
pub const EVENT_SIZE: usize = 32;

/// `eventtype`.
pub mod eventtype {
    /// A clock subscription fired.
    pub const CLOCK: u8 = 0;
    /// A descriptor is readable.
    pub const FD_READ: u8 = 1;
    /// A descriptor is writable.
    pub const FD_WRITE: u8 = 2;
}

/// `subclockflags`: the timeout is an absolute time of the clock.
pub const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1;
/// `eventrwflags`: the peer hung up.
pub const EVENT_FD_READWRITE_HANGUP: u16 = 1;

/// An `event` of `poll_oneoff` (32 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The subscription's user data.
    pub userdata: u64,
    /// An errno for this subscription (0 for none).
    pub error: u16,
    /// `eventtype`.
    pub kind: u8,
    /// Bytes available (fd events).
    pub nbytes: u64,
    /// `eventrwflags` (fd events).
    pub flags: u16,
}

impl Event {
    /// The guest's bytes.
    pub fn encode(&self) -> [u8; EVENT_SIZE] {
        let mut b = [0u8; EVENT_SIZE];
        b[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        b[8..10].copy_from_slice(&self.error.to_le_bytes());
        b[10] = self.kind;
        b[16..24].copy_from_slice(&self.nbytes.to_le_bytes());
        b[24..26].copy_from_slice(&self.flags.to_le_bytes());
        b
    }
}

/// Where `wasi_unstable` (preview0) differs from preview1; everything not here is
/// the same in both snapshots (errno values, rights, flags, `fdstat`, `dirent`,
/// `prestat`, `event`).
pub mod preview0 {
    use super::SubscriptionLayout;

    /// Preview0's `whence` numbering (preview1 reordered it as set, cur, end).
    pub mod whence {
        /// From the current offset.
        pub const CUR: u8 = 0;
        /// From the end of the file.
        pub const END: u8 = 1;
        /// From the start of the file.
        pub const SET: u8 = 2;
    }

    /// Size of a preview0 `filestat`: `nlink` is a `u32` `linkcount` at 20, `size`
    /// at 24, then the three timestamps.
    pub const FILESTAT_SIZE: usize = 56;

    /// The preview0 `subscription`: its clock subscription starts with a `u64`
    /// `identifier` (at 16), which moves the clock's fields 8 bytes down.
    pub const SUBSCRIPTION: SubscriptionLayout =
        SubscriptionLayout { size: 56, clock_id: 24, clock_timeout: 32, clock_flags: 48 };
}
