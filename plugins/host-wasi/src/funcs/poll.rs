//! `poll_oneoff`: waits for clock deadlines and descriptor readiness.
//!
//! Regular files and directories are always ready (as POSIX `poll` says); other
//! descriptors (terminals, pipes) are polled by the host with the earliest clock
//! deadline as timeout; without any, the thread sleeps until the earliest deadline.

use std::os::fd::AsFd;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags};
use rustix::time::Timespec;
use vm_core::host_fn;

use super::clock;
use super::size32;
use crate::abi::{
    EVENT_FD_READWRITE_HANGUP, EVENT_SIZE, Errno, Event, SUBSCRIPTION, SUBSCRIPTION_CLOCK_ABSTIME,
    SubscriptionLayout, eventtype, filetype,
};
use crate::ctx::WasiCtx;
use crate::mem;

/// The most subscriptions one `poll_oneoff` may pass; more is `Errno::Inval` (as
/// POSIX `poll` answers past its descriptor limit), before anything is allocated for
/// them.
pub const MAX_SUBSCRIPTIONS: u32 = 4096;

/// One decoded subscription.
enum Sub {
    /// Fires after `remaining` nanoseconds.
    Clock { userdata: u64, remaining: u64 },
    /// Readiness of a descriptor.
    Fd { userdata: u64, fd: u32, kind: u8 },
}

fn decode(mem: &[u8], at: usize, layout: &SubscriptionLayout) -> Result<Sub, Errno> {
    let userdata = mem::u64_at(mem, at)?;
    let tag = mem::array::<1>(mem, at + 8)?[0];
    match tag {
        eventtype::CLOCK => {
            let id = mem::u32_at(mem, at + layout.clock_id)?;
            let timeout = mem::u64_at(mem, at + layout.clock_timeout)?;
            let flags = mem::u16_at(mem, at + layout.clock_flags)?;
            let remaining = if flags & SUBSCRIPTION_CLOCK_ABSTIME != 0 {
                timeout.saturating_sub(clock::now(id)?)
            } else {
                clock::host_clock(id)?;
                timeout
            };
            Ok(Sub::Clock { userdata, remaining })
        }
        eventtype::FD_READ | eventtype::FD_WRITE => {
            Ok(Sub::Fd { userdata, fd: mem::u32_at(mem, at + 16)?, kind: tag })
        }
        _ => Err(Errno::Inval),
    }
}

fn timespec(ns: u64) -> Timespec {
    Timespec {
        tv_sec: i64::try_from(ns / 1_000_000_000).unwrap_or(i64::MAX),
        tv_nsec: (ns % 1_000_000_000) as _,
    }
}

/// `poll_oneoff(in, out, nsubscriptions) -> nevents`.
#[host_fn(fault = Errno::Fault)]
pub(crate) fn poll_oneoff(
    ctx: &mut WasiCtx,
    #[memory] mem: &mut [u8],
    subs_ptr: u32,
    events_ptr: u32,
    nsubscriptions: u32,
    #[out] nevents: &mut u32,
) -> Result<(), Errno> {
    *nevents = poll(ctx, mem, subs_ptr, events_ptr, nsubscriptions, &SUBSCRIPTION)?;
    Ok(())
}

/// `poll_oneoff` over subscriptions laid out as `layout` says (the snapshots differ
/// only there); the number of events written.
pub(crate) fn poll(
    ctx: &mut WasiCtx,
    mem: &mut [u8],
    subs_ptr: u32,
    events_ptr: u32,
    nsubscriptions: u32,
    layout: &SubscriptionLayout,
) -> Result<u32, Errno> {
    if nsubscriptions == 0 || nsubscriptions > MAX_SUBSCRIPTIONS {
        return Err(Errno::Inval);
    }
    let n = nsubscriptions as usize;
    mem::range(mem, subs_ptr as usize, n.checked_mul(layout.size).ok_or(Errno::Fault)?)?;
    mem::range(mem, events_ptr as usize, n.checked_mul(EVENT_SIZE).ok_or(Errno::Fault)?)?;
    let subs = (0..n)
        .map(|i| decode(mem, subs_ptr as usize + i * layout.size, layout))
        .collect::<Result<Vec<_>, _>>()?;

    let mut events = Vec::new();
    let mut waits = Vec::new(); // (userdata, kind, host fd)
    let mut deadline: Option<u64> = None;
    for sub in &subs {
        match *sub {
            Sub::Clock { userdata, remaining } => {
                if remaining == 0 {
                    events.push(Event {
                        userdata,
                        error: 0,
                        kind: eventtype::CLOCK,
                        nbytes: 0,
                        flags: 0,
                    });
                }
                deadline = Some(deadline.map_or(remaining, |d| d.min(remaining)));
            }
            Sub::Fd { userdata, fd, kind } => match ctx.fds.get(fd) {
                Err(e) => {
                    events.push(Event { userdata, error: e as u16, kind, nbytes: 0, flags: 0 })
                }
                Ok(entry)
                    if matches!(entry.filetype, filetype::REGULAR_FILE | filetype::DIRECTORY) =>
                {
                    events.push(Event { userdata, error: 0, kind, nbytes: 0, flags: 0 });
                }
                Ok(entry) => waits.push((userdata, kind, entry.fd.as_fd())),
            },
        }
    }

    if events.is_empty() {
        if waits.is_empty() {
            std::thread::sleep(Duration::from_nanos(deadline.unwrap_or(0)));
        } else {
            let mut pollfds: Vec<PollFd<'_>> = waits
                .iter()
                .map(|&(_, kind, fd)| {
                    let ev =
                        if kind == eventtype::FD_READ { PollFlags::IN } else { PollFlags::OUT };
                    PollFd::from_borrowed_fd(fd, ev)
                })
                .collect();
            let timeout = deadline.map(timespec);
            super::retry(|| rustix::event::poll(&mut pollfds, timeout.as_ref()))?;
            for (pfd, &(userdata, kind, fd)) in pollfds.iter().zip(&waits) {
                let rev = pfd.revents();
                if rev.is_empty() {
                    continue;
                }
                let error = if rev.contains(PollFlags::NVAL) { Errno::Badf as u16 } else { 0 };
                let flags =
                    if rev.contains(PollFlags::HUP) { EVENT_FD_READWRITE_HANGUP } else { 0 };
                let nbytes = if kind == eventtype::FD_READ {
                    rustix::io::ioctl_fionread(fd).unwrap_or(0)
                } else {
                    0
                };
                events.push(Event { userdata, error, kind, nbytes, flags });
            }
        }
        if events.is_empty() {
            // The earliest clock fired.
            for sub in &subs {
                if let Sub::Clock { userdata, remaining } = *sub
                    && Some(remaining) == deadline
                {
                    events.push(Event {
                        userdata,
                        error: 0,
                        kind: eventtype::CLOCK,
                        nbytes: 0,
                        flags: 0,
                    });
                }
            }
        }
    }

    for (i, ev) in events.iter().enumerate() {
        mem::write(mem, events_ptr as usize + i * EVENT_SIZE, &ev.encode())?;
    }
    size32(events.len())
}
