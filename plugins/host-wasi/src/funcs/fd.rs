//! `fd_*`: reading, writing, seeking and describing open descriptors.

use std::num::NonZeroU64;
use std::os::fd::{AsFd, BorrowedFd};

use rustix::fs::{Advice, AtFlags, FallocateFlags, FileType, OFlags, SeekFrom, Stat, Timestamps};
use rustix::time::Timespec;
use vm_core::host_fn;

use super::{retry, size32};
use crate::abi::{self, Errno, Fdstat, Filestat, Whence, fdflags, fstflags};
use crate::ctx::{DirItem, Kind, WasiCtx, wasi_filetype};
use crate::{STATS, mem};

/// A host `stat` as a `filestat` (encoded per snapshot by the caller).
#[allow(clippy::unnecessary_cast)] // field widths differ between targets
pub(crate) fn filestat(st: &Stat) -> Filestat {
    let time = |s: i64, ns: u64| {
        u64::try_from(s).unwrap_or(0).saturating_mul(1_000_000_000).saturating_add(ns)
    };
    Filestat {
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
        filetype: wasi_filetype(FileType::from_raw_mode(st.st_mode)),
        nlink: st.st_nlink as u64,
        size: u64::try_from(st.st_size).unwrap_or(0),
        atim: time(st.st_atime as i64, st.st_atime_nsec as u64),
        mtim: time(st.st_mtime as i64, st.st_mtime_nsec as u64),
        ctim: time(st.st_ctime as i64, st.st_ctime_nsec as u64),
    }
}

/// The `Timestamps` of a `*_set_times` call.
pub(crate) fn timestamps(atim: u64, mtim: u64, flags: u32) -> Result<Timestamps, Errno> {
    let flags = flags as u16;
    let one = |t: u64, set: u16, now: u16| -> Result<Timespec, Errno> {
        match (flags & set != 0, flags & now != 0) {
            (true, true) => Err(Errno::Inval),
            (true, false) => Ok(Timespec {
                tv_sec: i64::try_from(t / 1_000_000_000).map_err(|_| Errno::Overflow)?,
                tv_nsec: (t % 1_000_000_000) as _,
            }),
            (false, true) => Ok(Timespec { tv_sec: 0, tv_nsec: rustix::fs::UTIME_NOW }),
            (false, false) => Ok(Timespec { tv_sec: 0, tv_nsec: rustix::fs::UTIME_OMIT }),
        }
    };
    Ok(Timestamps {
        last_access: one(atim, fstflags::ATIM, fstflags::ATIM_NOW)?,
        last_modification: one(mtim, fstflags::MTIM, fstflags::MTIM_NOW)?,
    })
}

/// The host descriptor behind guest `fd`.
fn host(ctx: &WasiCtx, fd: u32) -> Result<BorrowedFd<'_>, Errno> {
    Ok(ctx.fds.get(fd)?.fd.as_fd())
}

/// `fd_write(fd, iovs, iovs_len) -> nwritten`: one `writev` straight from guest memory.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn fd_write(
    ctx: &mut WasiCtx,
    #[memory] mem: &[u8],
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    #[out] nwritten: &mut u32,
) -> Result<(), Errno> {
    let fd = host(ctx, fd)?;
    let ranges = mem::iovecs(mem, iovs, iovs_len)?;
    let bufs = mem::io_slices(mem, &ranges);
    let n = retry(|| rustix::io::writev(fd, &bufs))?;
    STATS.wrote(n);
    *nwritten = size32(n)?;
    Ok(())
}

/// `fd_pwrite(fd, iovs, iovs_len, offset) -> nwritten`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn fd_pwrite(
    ctx: &mut WasiCtx,
    #[memory] mem: &[u8],
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    #[out] nwritten: &mut u32,
) -> Result<(), Errno> {
    let fd = host(ctx, fd)?;
    let ranges = mem::iovecs(mem, iovs, iovs_len)?;
    let bufs = mem::io_slices(mem, &ranges);
    let n = retry(|| rustix::io::pwritev(fd, &bufs, offset))?;
    STATS.wrote(n);
    *nwritten = size32(n)?;
    Ok(())
}

/// `fd_read(fd, iovs, iovs_len) -> nread`: one `readv` straight into guest memory.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn fd_read(
    ctx: &mut WasiCtx,
    #[memory] mem: &mut [u8],
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    #[out] nread: &mut u32,
) -> Result<(), Errno> {
    let fd = host(ctx, fd)?;
    let ranges = mem::iovecs(mem, iovs, iovs_len)?;
    let mut bufs = mem::io_slices_mut(mem, &ranges)?;
    let n = retry(|| rustix::io::readv(fd, &mut bufs))?;
    STATS.read(n);
    *nread = size32(n)?;
    Ok(())
}

/// `fd_pread(fd, iovs, iovs_len, offset) -> nread`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn fd_pread(
    ctx: &mut WasiCtx,
    #[memory] mem: &mut [u8],
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    #[out] nread: &mut u32,
) -> Result<(), Errno> {
    let fd = host(ctx, fd)?;
    let ranges = mem::iovecs(mem, iovs, iovs_len)?;
    let mut bufs = mem::io_slices_mut(mem, &ranges)?;
    let n = retry(|| rustix::io::preadv(fd, &mut bufs, offset))?;
    STATS.read(n);
    *nread = size32(n)?;
    Ok(())
}

/// `fd_seek(fd, offset, whence) -> newoffset`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn fd_seek(
    ctx: &mut WasiCtx,
    fd: u32,
    offset: i64,
    whence: u32,
    #[out] newoffset: &mut u64,
) -> Result<(), Errno> {
    *newoffset = seek(ctx, fd, offset, Whence::preview1(whence))?;
    Ok(())
}

/// `fd_seek` once either snapshot's `whence` is decoded (`None`: not a `whence`).
pub(crate) fn seek(
    ctx: &mut WasiCtx,
    fd: u32,
    offset: i64,
    whence: Option<Whence>,
) -> Result<u64, Errno> {
    let entry = ctx.fds.get(fd)?;
    if matches!(entry.kind, Kind::Dir { .. }) {
        return Err(Errno::Isdir);
    }
    let pos = match whence.ok_or(Errno::Inval)? {
        Whence::Set => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?),
        Whence::Cur => SeekFrom::Current(offset),
        Whence::End => SeekFrom::End(offset),
    };
    Ok(rustix::fs::seek(&entry.fd, pos)?)
}

/// `fd_tell(fd) -> offset`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn fd_tell(ctx: &mut WasiCtx, fd: u32, #[out] offset: &mut u64) -> Result<(), Errno> {
    *offset = rustix::fs::seek(host(ctx, fd)?, SeekFrom::Current(0))?;
    Ok(())
}

/// `fd_close(fd)`.
#[host_fn]
pub(crate) fn fd_close(ctx: &mut WasiCtx, fd: u32) -> Result<(), Errno> {
    drop(ctx.fds.remove(fd)?);
    Ok(())
}

/// `fd_renumber(from, to)`: `to` is closed and `from` takes its number.
#[host_fn]
pub(crate) fn fd_renumber(ctx: &mut WasiCtx, from: u32, to: u32) -> Result<(), Errno> {
    ctx.fds.renumber(from, to)
}

/// `fd_sync(fd)`.
#[host_fn]
pub(crate) fn fd_sync(ctx: &mut WasiCtx, fd: u32) -> Result<(), Errno> {
    Ok(rustix::fs::fsync(host(ctx, fd)?)?)
}

/// `fd_datasync(fd)`.
#[host_fn]
pub(crate) fn fd_datasync(ctx: &mut WasiCtx, fd: u32) -> Result<(), Errno> {
    Ok(rustix::fs::fdatasync(host(ctx, fd)?)?)
}

/// `fd_fdstat_get(fd) -> fdstat`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn fd_fdstat_get(
    ctx: &mut WasiCtx,
    fd: u32,
    #[out] stat: &mut [u8; 24],
) -> Result<(), Errno> {
    let entry = ctx.fds.get(fd)?;
    let fl = rustix::fs::fcntl_getfl(&entry.fd)?;
    let mut flags = 0;
    if fl.contains(OFlags::APPEND) {
        flags |= fdflags::APPEND;
    }
    if fl.contains(OFlags::NONBLOCK) {
        flags |= fdflags::NONBLOCK;
    }
    if fl.contains(OFlags::SYNC) {
        flags |= fdflags::SYNC | fdflags::RSYNC;
    } else if fl.contains(OFlags::DSYNC) {
        flags |= fdflags::DSYNC;
    }
    *stat = Fdstat {
        filetype: entry.filetype,
        flags,
        rights_base: entry.rights_base,
        rights_inheriting: entry.rights_inheriting,
    }
    .encode();
    Ok(())
}

/// `fd_fdstat_set_flags(fd, flags)`: `APPEND` and `NONBLOCK` can change; the sync
/// flags are fixed at open (`Notsup`).
#[host_fn]
pub(crate) fn fd_fdstat_set_flags(ctx: &mut WasiCtx, fd: u32, flags: u32) -> Result<(), Errno> {
    let flags = flags as u16;
    if flags & !(fdflags::APPEND | fdflags::NONBLOCK) != 0 {
        return Err(Errno::Notsup);
    }
    let fd = host(ctx, fd)?;
    let mut fl = rustix::fs::fcntl_getfl(fd)? & !(OFlags::APPEND | OFlags::NONBLOCK);
    if flags & fdflags::APPEND != 0 {
        fl |= OFlags::APPEND;
    }
    if flags & fdflags::NONBLOCK != 0 {
        fl |= OFlags::NONBLOCK;
    }
    Ok(rustix::fs::fcntl_setfl(fd, fl)?)
}

/// `fd_fdstat_set_rights(fd, base, inheriting)`: rights can only shrink.
#[host_fn]
pub(crate) fn fd_fdstat_set_rights(
    ctx: &mut WasiCtx,
    fd: u32,
    base: u64,
    inheriting: u64,
) -> Result<(), Errno> {
    let entry = ctx.fds.get_mut(fd)?;
    if base & !entry.rights_base != 0 || inheriting & !entry.rights_inheriting != 0 {
        return Err(Errno::Notcapable);
    }
    entry.rights_base = base;
    entry.rights_inheriting = inheriting;
    Ok(())
}

/// `fd_filestat_get(fd) -> filestat`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn fd_filestat_get(
    ctx: &mut WasiCtx,
    fd: u32,
    #[out] stat: &mut [u8; abi::FILESTAT_SIZE],
) -> Result<(), Errno> {
    *stat = fd_stat(ctx, fd)?.encode();
    Ok(())
}

/// `fd_filestat_get` before either snapshot's encoding.
pub(crate) fn fd_stat(ctx: &mut WasiCtx, fd: u32) -> Result<Filestat, Errno> {
    let entry = ctx.fds.get(fd)?;
    let mut st = filestat(&rustix::fs::fstat(&entry.fd)?);
    // Stdio and preopens keep the type they were given (a pipe stays "unknown").
    st.filetype = entry.filetype;
    Ok(st)
}

/// `fd_filestat_set_size(fd, size)`.
#[host_fn]
pub(crate) fn fd_filestat_set_size(ctx: &mut WasiCtx, fd: u32, size: u64) -> Result<(), Errno> {
    Ok(rustix::fs::ftruncate(host(ctx, fd)?, size)?)
}

/// `fd_filestat_set_times(fd, atim, mtim, fst_flags)`.
#[host_fn]
pub(crate) fn fd_filestat_set_times(
    ctx: &mut WasiCtx,
    fd: u32,
    atim: u64,
    mtim: u64,
    fst_flags: u32,
) -> Result<(), Errno> {
    let ts = timestamps(atim, mtim, fst_flags)?;
    Ok(rustix::fs::futimens(host(ctx, fd)?, &ts)?)
}

/// `fd_advise(fd, offset, len, advice)`.
#[host_fn]
pub(crate) fn fd_advise(
    ctx: &mut WasiCtx,
    fd: u32,
    offset: u64,
    len: u64,
    advice: u32,
) -> Result<(), Errno> {
    let advice = match advice {
        0 => Advice::Normal,
        1 => Advice::Sequential,
        2 => Advice::Random,
        3 => Advice::WillNeed,
        4 => Advice::DontNeed,
        5 => Advice::NoReuse,
        _ => return Err(Errno::Inval),
    };
    Ok(rustix::fs::fadvise(host(ctx, fd)?, offset, NonZeroU64::new(len), advice)?)
}

/// `fd_allocate(fd, offset, len)`: `fallocate`, where the host file system has it.
#[host_fn]
pub(crate) fn fd_allocate(ctx: &mut WasiCtx, fd: u32, offset: u64, len: u64) -> Result<(), Errno> {
    Ok(rustix::fs::fallocate(host(ctx, fd)?, FallocateFlags::empty(), offset, len)?)
}

/// `fd_prestat_get(fd) -> prestat`: the guest path's length for a preopened directory,
/// `Badf` for any other descriptor (libc scans from 3 until `Badf`).
#[host_fn(fault = Errno::Fault)]
pub(crate) fn fd_prestat_get(
    ctx: &mut WasiCtx,
    fd: u32,
    #[out] prestat: &mut [u8; 8],
) -> Result<(), Errno> {
    let Kind::Dir { preopen: Some(name), .. } = &ctx.fds.get(fd)?.kind else {
        return Err(Errno::Badf);
    };
    prestat[0] = 0; // preopentype `dir`
    prestat[4..8].copy_from_slice(&size32(name.len())?.to_le_bytes());
    Ok(())
}

/// `fd_prestat_dir_name(fd, path, path_len)`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn fd_prestat_dir_name(
    ctx: &mut WasiCtx,
    fd: u32,
    path: &mut [u8],
) -> Result<(), Errno> {
    let Kind::Dir { preopen: Some(name), .. } = &ctx.fds.get(fd)?.kind else {
        return Err(Errno::Badf);
    };
    let dst = path.get_mut(..name.len()).ok_or(Errno::Nametoolong)?;
    dst.copy_from_slice(name.as_bytes());
    Ok(())
}

/// Every entry of a directory (`.` and `..` included), read through a fresh
/// descriptor so the guest's descriptor keeps no position.
fn listing(dir: BorrowedFd<'_>) -> Result<Vec<DirItem>, Errno> {
    let mut d = rustix::fs::Dir::read_from(dir)?;
    let mut items = Vec::new();
    while let Some(entry) = d.read() {
        let entry = entry?;
        let name = entry.file_name().to_bytes().to_vec();
        let ft = match entry.file_type() {
            FileType::Unknown => {
                rustix::fs::statat(dir, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW)
                    .map(|st| FileType::from_raw_mode(st.st_mode))
                    .unwrap_or(FileType::Unknown)
            }
            ft => ft,
        };
        items.push(DirItem { ino: entry.ino(), filetype: wasi_filetype(ft), name });
    }
    Ok(items)
}

/// `fd_readdir(fd, buf, buf_len, cookie) -> bufused`: `dirent` headers and names from
/// entry `cookie` on, the last one cut short when the buffer is full (libc then asks
/// again with a bigger buffer).
#[host_fn(fault = Errno::Fault)]
pub(crate) fn fd_readdir(
    ctx: &mut WasiCtx,
    fd: u32,
    buf: &mut [u8],
    cookie: u64,
    #[out] bufused: &mut u32,
) -> Result<(), Errno> {
    let entry = ctx.fds.get_mut(fd)?;
    let Kind::Dir { listing: items, .. } = &mut entry.kind else {
        return Err(Errno::Notdir);
    };
    if cookie == 0 || items.is_empty() {
        *items = listing(entry.fd.as_fd())?;
    }
    let skip = usize::try_from(cookie).unwrap_or(usize::MAX);
    let mut used = 0usize;
    for (i, item) in items.iter().enumerate().skip(skip) {
        let header = abi::dirent(i as u64 + 1, item.ino, size32(item.name.len())?, item.filetype);
        for part in [&header[..], &item.name[..]] {
            let room = &mut buf[used..];
            let n = room.len().min(part.len());
            room[..n].copy_from_slice(&part[..n]);
            used += n;
            if used == buf.len() {
                *bufused = size32(used)?;
                return Ok(());
            }
        }
    }
    *bufused = size32(used)?;
    Ok(())
}
