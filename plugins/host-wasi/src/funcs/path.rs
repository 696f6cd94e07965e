//! `path_*`: everything that names a file by path, confined to the directory
//! descriptor it is relative to (see [`crate::sandbox`]).

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use vm_core::host_fn;

use super::fd::{filestat, timestamps};
use super::size32;
use crate::STATS;
use crate::abi::{self, Errno, Filestat, fdflags, filetype, lookupflags, oflags, rights};
use crate::ctx::{Entry, Kind, WasiCtx, wasi_filetype};
use crate::sandbox::{self, Resolved};

/// Resolves `path` below directory descriptor `fd`.
fn at<'c>(ctx: &'c WasiCtx, fd: u32, path: &[u8], follow: bool) -> Result<Resolved<'c>, Errno> {
    sandbox::resolve(ctx.fds.get(fd)?.dir()?, path, follow)
}

fn follows(flags: u32) -> bool {
    flags & lookupflags::SYMLINK_FOLLOW != 0
}

/// `path_open(fd, dirflags, path, oflags, rights_base, rights_inheriting, fdflags) -> fd`.
///
/// The access mode comes from the rights, as libc sets them: read for `FD_READ` or
/// `FD_READDIR`, write for `FD_WRITE`, `FD_DATASYNC`, `FD_ALLOCATE` or
/// `FD_FILESTAT_SET_SIZE`. The last component is opened with `O_NOFOLLOW` always.
#[host_fn(fault = Errno::Fault)]
#[allow(clippy::too_many_arguments)] // the preview1 signature
pub(crate) fn path_open(
    ctx: &mut WasiCtx,
    fd: u32,
    dirflags: u32,
    path: &[u8],
    open_flags: u32,
    rights_base: u64,
    rights_inheriting: u64,
    fd_flags: u32,
    #[out] opened: &mut u32,
) -> Result<(), Errno> {
    let (open_flags, fd_flags) = (open_flags as u16, fd_flags as u16);
    let mut flags = OFlags::CLOEXEC | OFlags::NOFOLLOW;
    for (bit, host) in [
        (oflags::CREAT, OFlags::CREATE),
        (oflags::DIRECTORY, OFlags::DIRECTORY),
        (oflags::EXCL, OFlags::EXCL),
        (oflags::TRUNC, OFlags::TRUNC),
    ] {
        if open_flags & bit != 0 {
            flags |= host;
        }
    }
    for (bit, host) in [
        (fdflags::APPEND, OFlags::APPEND),
        (fdflags::DSYNC, OFlags::DSYNC),
        (fdflags::NONBLOCK, OFlags::NONBLOCK),
        (fdflags::RSYNC, OFlags::RSYNC),
        (fdflags::SYNC, OFlags::SYNC),
    ] {
        if fd_flags & bit != 0 {
            flags |= host;
        }
    }
    let read = rights_base & (rights::FD_READ | rights::FD_READDIR) != 0;
    let write = rights_base
        & (rights::FD_WRITE
            | rights::FD_DATASYNC
            | rights::FD_ALLOCATE
            | rights::FD_FILESTAT_SET_SIZE)
        != 0;
    let dir_only = open_flags & oflags::DIRECTORY != 0;
    flags |= match (read, write) {
        (_, true) if dir_only => return Err(Errno::Isdir),
        (true, true) => OFlags::RDWR,
        (false, true) => OFlags::WRONLY,
        _ => OFlags::RDONLY,
    };
    let parent = ctx.fds.get(fd)?;
    let inheriting = parent.rights_inheriting;
    let (host_fd, ft) = {
        let r = sandbox::resolve(parent.dir()?, path, follows(dirflags))?;
        if r.trailing_slash {
            flags |= OFlags::DIRECTORY;
        }
        let host_fd = rustix::fs::openat(
            &r.parent,
            r.name.as_c_str(),
            flags,
            Mode::from_bits_truncate(0o666),
        )?;
        let ft = FileType::from_raw_mode(rustix::fs::fstat(&host_fd)?.st_mode);
        (host_fd, ft)
    };
    let wasi_ft = wasi_filetype(ft);
    let (kind, type_rights) = if ft == FileType::Directory {
        (Kind::Dir { preopen: None, listing: Vec::new() }, rights::DIRECTORY)
    } else {
        (Kind::File, rights::FILE)
    };
    let entry = Entry {
        fd: host_fd,
        filetype: wasi_ft,
        rights_base: rights_base & inheriting & type_rights,
        rights_inheriting: rights_inheriting & inheriting,
        kind,
    };
    *opened = ctx.fds.insert(entry)?;
    STATS.opened();
    Ok(())
}

/// `path_create_directory(fd, path)`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn path_create_directory(ctx: &mut WasiCtx, fd: u32, path: &[u8]) -> Result<(), Errno> {
    let r = at(ctx, fd, path, false)?;
    Ok(rustix::fs::mkdirat(&r.parent, r.name.as_c_str(), Mode::from_bits_truncate(0o777))?)
}

/// `path_unlink_file(fd, path)`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn path_unlink_file(ctx: &mut WasiCtx, fd: u32, path: &[u8]) -> Result<(), Errno> {
    let r = at(ctx, fd, path, false)?;
    if r.trailing_slash {
        // `file/` names a directory: never unlink the file it spells.
        let st = rustix::fs::statat(&r.parent, r.name.as_c_str(), AtFlags::SYMLINK_NOFOLLOW)?;
        return Err(if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
            Errno::Isdir
        } else {
            Errno::Notdir
        });
    }
    Ok(rustix::fs::unlinkat(&r.parent, r.name.as_c_str(), AtFlags::empty())?)
}

/// `path_remove_directory(fd, path)`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn path_remove_directory(ctx: &mut WasiCtx, fd: u32, path: &[u8]) -> Result<(), Errno> {
    let r = at(ctx, fd, path, false)?;
    Ok(rustix::fs::unlinkat(&r.parent, r.name.as_c_str(), AtFlags::REMOVEDIR)?)
}

/// `path_rename(fd, old_path, new_fd, new_path)`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn path_rename(
    ctx: &mut WasiCtx,
    fd: u32,
    old_path: &[u8],
    new_fd: u32,
    new_path: &[u8],
) -> Result<(), Errno> {
    let old = at(ctx, fd, old_path, false)?;
    let new = at(ctx, new_fd, new_path, false)?;
    Ok(rustix::fs::renameat(&old.parent, old.name.as_c_str(), &new.parent, new.name.as_c_str())?)
}

/// `path_link(old_fd, old_flags, old_path, new_fd, new_path)`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn path_link(
    ctx: &mut WasiCtx,
    old_fd: u32,
    old_flags: u32,
    old_path: &[u8],
    new_fd: u32,
    new_path: &[u8],
) -> Result<(), Errno> {
    let old = at(ctx, old_fd, old_path, follows(old_flags))?;
    let new = at(ctx, new_fd, new_path, false)?;
    Ok(rustix::fs::linkat(
        &old.parent,
        old.name.as_c_str(),
        &new.parent,
        new.name.as_c_str(),
        AtFlags::empty(),
    )?)
}

/// `path_symlink(old_path, fd, new_path)`: creates a link whose text, read from where
/// it is stored, stays inside `fd` (an absolute or climbing target is `Notcapable`).
#[host_fn(fault = Errno::Fault)]
pub(crate) fn path_symlink(
    ctx: &mut WasiCtx,
    old_path: &[u8],
    fd: u32,
    new_path: &[u8],
) -> Result<(), Errno> {
    if old_path.is_empty() {
        return Err(Errno::Noent);
    }
    if old_path.len() >= sandbox::MAX_PATH {
        return Err(Errno::Nametoolong);
    }
    if old_path.contains(&0) {
        return Err(Errno::Ilseq);
    }
    let new = at(ctx, fd, new_path, false)?;
    if !sandbox::link_target_stays_inside(old_path, new.depth) {
        return Err(Errno::Notcapable);
    }
    Ok(rustix::fs::symlinkat(old_path, &new.parent, new.name.as_c_str())?)
}

/// `path_readlink(fd, path, buf, buf_len) -> bufused` (the text is cut to the buffer).
#[host_fn(fault = Errno::Fault)]
pub(crate) fn path_readlink(
    ctx: &mut WasiCtx,
    fd: u32,
    path: &[u8],
    buf: &mut [u8],
    #[out] bufused: &mut u32,
) -> Result<(), Errno> {
    let r = at(ctx, fd, path, false)?;
    let target = rustix::fs::readlinkat(&r.parent, r.name.as_c_str(), Vec::new())?;
    let target = target.as_bytes();
    let n = target.len().min(buf.len());
    buf[..n].copy_from_slice(&target[..n]);
    *bufused = size32(n)?;
    Ok(())
}

/// `path_filestat_get(fd, flags, path) -> filestat`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn path_filestat_get(
    ctx: &mut WasiCtx,
    fd: u32,
    flags: u32,
    path: &[u8],
    #[out] stat: &mut [u8; abi::FILESTAT_SIZE],
) -> Result<(), Errno> {
    *stat = path_stat(ctx, fd, flags, path)?.encode();
    Ok(())
}

/// `path_filestat_get` before either snapshot's encoding.
pub(crate) fn path_stat(
    ctx: &mut WasiCtx,
    fd: u32,
    flags: u32,
    path: &[u8],
) -> Result<Filestat, Errno> {
    let r = at(ctx, fd, path, follows(flags))?;
    let st = rustix::fs::statat(&r.parent, r.name.as_c_str(), AtFlags::SYMLINK_NOFOLLOW)?;
    let st = filestat(&st);
    if r.trailing_slash && st.filetype != filetype::DIRECTORY {
        return Err(Errno::Notdir);
    }
    Ok(st)
}

/// `path_filestat_set_times(fd, flags, path, atim, mtim, fst_flags)`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn path_filestat_set_times(
    ctx: &mut WasiCtx,
    fd: u32,
    flags: u32,
    path: &[u8],
    atim: u64,
    mtim: u64,
    fst_flags: u32,
) -> Result<(), Errno> {
    let ts = timestamps(atim, mtim, fst_flags)?;
    let r = at(ctx, fd, path, follows(flags))?;
    Ok(rustix::fs::utimensat(&r.parent, r.name.as_c_str(), &ts, AtFlags::SYMLINK_NOFOLLOW)?)
}
