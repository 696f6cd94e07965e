//! Path resolution confined to a directory descriptor.
//!
//! Guest paths are resolved one component at a time with `openat(..., O_NOFOLLOW)`
//! from the directory descriptor the guest names, keeping a stack of the directories
//! walked through:
//!
//! - an absolute path is refused (`Notcapable`);
//! - `..` pops the stack, and popping past the starting directory is refused;
//! - a symbolic link is read with `readlinkat` and its target's components are
//!   spliced into the walk, so a link is held to the same rules (an absolute target or
//!   one that climbs out is refused); 40 links at most (`Loop`);
//! - each intermediate directory is opened with `O_NOFOLLOW | O_DIRECTORY`, so a
//!   component swapped for a link after it was checked fails instead of being followed.
//!
//! The caller gets the parent directory's descriptor and the last component, and does
//! its `*at` call there with `AT_SYMLINK_NOFOLLOW` / `O_NOFOLLOW`.

use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{Mode, OFlags};

use crate::abi::Errno;

/// Symbolic links followed in one resolution, at most (Linux's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// The longest path a guest may pass, in bytes (Linux's `PATH_MAX`, its NUL
/// included); longer is `Errno::Nametoolong`.
pub const MAX_PATH: usize = 4096;

/// The longest component of a path, in bytes (Linux's `NAME_MAX`); longer is
/// `Errno::Nametoolong`.
pub const MAX_NAME: usize = 255;

/// The directory a resolved path's last component lives in.
#[derive(Debug)]
pub(crate) enum Parent<'a> {
    /// The starting directory itself.
    Base(BorrowedFd<'a>),
    /// A directory below it.
    Owned(OwnedFd),
}

impl AsFd for Parent<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Parent::Base(fd) => fd.as_fd(),
            Parent::Owned(fd) => fd.as_fd(),
        }
    }
}

/// A resolved path: the parent directory and the last component.
#[derive(Debug)]
pub(crate) struct Resolved<'a> {
    /// Where `name` lives.
    pub parent: Parent<'a>,
    /// The last component (`.` when the path named the directory itself).
    pub name: CString,
    /// The path ended with `/`: the target must be a directory.
    pub trailing_slash: bool,
    /// How many directories below the starting one `parent` is.
    pub depth: usize,
}

/// Splits a guest path into its components, refusing NUL, absolute paths and
/// lengths past [`MAX_PATH`] or [`MAX_NAME`] (checked before anything is allocated).
pub(crate) fn components(path: &[u8]) -> Result<Vec<Vec<u8>>, Errno> {
    if path.is_empty() {
        return Err(Errno::Noent);
    }
    if path.len() >= MAX_PATH {
        return Err(Errno::Nametoolong);
    }
    if path.contains(&0) {
        return Err(Errno::Ilseq);
    }
    if path[0] == b'/' {
        return Err(Errno::Notcapable);
    }
    let parts = path.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".");
    if parts.clone().any(|c| c.len() > MAX_NAME) {
        return Err(Errno::Nametoolong);
    }
    Ok(parts.map(<[u8]>::to_vec).collect())
}

/// Resolves `path` below `base`. With `follow`, a symbolic link in the last component
/// is followed too (a trailing `/` always follows).
///
/// # Errors
/// `Notcapable` for a path that leaves `base`, `Loop` for too many links, and the
/// host's errno for a missing or non-directory intermediate component.
pub(crate) fn resolve<'a>(
    base: BorrowedFd<'a>,
    path: &[u8],
    follow: bool,
) -> Result<Resolved<'a>, Errno> {
    let trailing_slash = path.ends_with(b"/") || path.ends_with(b"/.");
    // Pending components, next one last.
    let mut pending = components(path)?;
    pending.reverse();
    let mut stack: Vec<OwnedFd> = Vec::new();
    let mut links = 0usize;
    let finish = |stack: &mut Vec<OwnedFd>, name: Vec<u8>| -> Result<Resolved<'a>, Errno> {
        let depth = stack.len();
        let parent = match stack.pop() {
            Some(fd) => Parent::Owned(fd),
            None => Parent::Base(base),
        };
        let name = CString::new(name).map_err(|_| Errno::Ilseq)?;
        Ok(Resolved { parent, name, trailing_slash, depth })
    };
    loop {
        let Some(comp) = pending.pop() else {
            return finish(&mut stack, b".".to_vec());
        };
        if comp == b".." {
            if stack.pop().is_none() {
                return Err(Errno::Notcapable);
            }
            continue;
        }
        let last = pending.is_empty();
        if last && !follow && !trailing_slash {
            return finish(&mut stack, comp);
        }
        let dir = stack.last().map_or(base, |fd| fd.as_fd());
        match rustix::fs::readlinkat(dir, comp.as_slice(), Vec::new()) {
            Ok(target) => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(Errno::Loop);
                }
                let target = target.into_bytes();
                if target.first() == Some(&b'/') {
                    return Err(Errno::Notcapable);
                }
                let mut more = components(&target)?;
                // A link to `dir/` keeps the directory requirement of its text.
                more.reverse();
                pending.extend(more);
                continue;
            }
            // Not a link.
            Err(rustix::io::Errno::INVAL) => {}
            // A last component that does not exist yet (to be created).
            Err(rustix::io::Errno::NOENT) if last => return finish(&mut stack, comp),
            Err(e) => return Err(e.into()),
        }
        if last {
            return finish(&mut stack, comp);
        }
        let next = rustix::fs::openat(
            dir,
            comp.as_slice(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        stack.push(next);
    }
}

/// Whether the symbolic link text `target`, stored `depth` directories below the
/// starting directory, stays inside it when read lexically.
pub(crate) fn link_target_stays_inside(target: &[u8], depth: usize) -> bool {
    if target.first() == Some(&b'/') {
        return false;
    }
    let mut level = depth as isize;
    for comp in target.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                level -= 1;
                if level < 0 {
                    return false;
                }
            }
            _ => level += 1,
        }
    }
    true
}
