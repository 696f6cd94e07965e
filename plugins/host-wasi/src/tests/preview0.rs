//! `wasi_unstable` (preview0): the three layouts that differ from preview1, through
//! the preview0 functions, and one context shared with preview1.

use super::*;
use crate::WASI_UNSTABLE_MODULE as P0;
use crate::abi::{self, Filestat, SUBSCRIPTION, Whence, clockid, preview0, whence};

#[test]
fn whence_numbering_differs() {
    assert_eq!([whence::SET, whence::CUR, whence::END], [0, 1, 2]);
    assert_eq!([preview0::whence::CUR, preview0::whence::END, preview0::whence::SET], [0, 1, 2]);
    let p1: Vec<_> = (0..4).map(Whence::preview1).collect();
    let p0: Vec<_> = (0..4).map(Whence::preview0).collect();
    assert_eq!(p1, [Some(Whence::Set), Some(Whence::Cur), Some(Whence::End), None]);
    assert_eq!(p0, [Some(Whence::Cur), Some(Whence::End), Some(Whence::Set), None]);
    assert_eq!(Whence::preview0(0x100), None, "a whence is a u8");
}

#[test]
fn filestat_is_56_bytes_with_a_u32_nlink() {
    assert_eq!((abi::FILESTAT_SIZE, preview0::FILESTAT_SIZE), (64, 56));
    let st = Filestat {
        dev: 0x1111,
        ino: 0x2222,
        filetype: filetype::REGULAR_FILE,
        nlink: 3,
        size: 0x4444,
        atim: 0x5555,
        mtim: 0x6666,
        ctim: 0x7777,
    };
    let b = st.encode_preview0();
    let u64_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    assert_eq!((u64_at(0), u64_at(8), b[16], u32_at(20)), (0x1111, 0x2222, 4, 3));
    assert_eq!((u64_at(24), u64_at(32), u64_at(40), u64_at(48)), (0x4444, 0x5555, 0x6666, 0x7777));
    assert_eq!(&b[17..20], &[0, 0, 0], "padding");
    // Preview1 for contrast: nlink u64 at 24, size at 32.
    let b1 = st.encode();
    assert_eq!(u64::from_le_bytes(b1[24..32].try_into().unwrap()), 3);
    assert_eq!(u64::from_le_bytes(b1[32..40].try_into().unwrap()), 0x4444);
    // A link count past u32 saturates rather than wrapping.
    let many = Filestat { nlink: u64::from(u32::MAX) + 2, ..st }.encode_preview0();
    assert_eq!(&many[20..24], &u32::MAX.to_le_bytes());
}

#[test]
fn subscription_is_56_bytes_with_an_identifier_before_the_clock() {
    assert_eq!(
        (SUBSCRIPTION.size, SUBSCRIPTION.clock_id, SUBSCRIPTION.clock_timeout),
        (48, 16, 24)
    );
    assert_eq!(SUBSCRIPTION.clock_flags, 40);
    let p0 = preview0::SUBSCRIPTION;
    assert_eq!((p0.size, p0.clock_id, p0.clock_timeout, p0.clock_flags), (56, 24, 32, 48));
    assert_eq!(abi::EVENT_SIZE, 32, "events are the same in both snapshots");
}

/// A fresh file `name` with `content` below fd 3; its fd.
fn file(g: &mut Guest, name: &str, content: &[u8]) -> u32 {
    let fd = g.open(name, oflags::CREAT, rights::FILE, false).unwrap();
    assert_eq!(g.write(fd, content).unwrap(), content.len() as u32);
    fd
}

#[test]
fn fd_seek_takes_preview0_whence() {
    let tmp = TempDir::new();
    let mut g = Guest::with_preopen(tmp.path());
    let fd = file(&mut g, "f.txt", b"hello world");
    let seek = |g: &mut Guest, off: i64, whence: u32| {
        g.errno_in(&P0, "fd_seek", &[i(fd), l(off as u64), i(whence), i(OUT)])
            .map(|()| g.u64_at(OUT))
    };
    assert_eq!(seek(&mut g, 0, preview0::whence::SET.into()), Ok(0));
    assert_eq!(seek(&mut g, -5, preview0::whence::END.into()), Ok(6));
    assert_eq!(seek(&mut g, 2, preview0::whence::CUR.into()), Ok(8));
    assert_eq!(g.read(fd, 16).unwrap(), b"rld");
    assert_eq!(seek(&mut g, 0, 3), Err(Errno::Inval as i32));
    assert_eq!(seek(&mut g, -1, preview0::whence::SET.into()), Err(Errno::Inval as i32));
    // The same number is another base in preview1: 0 is SET there, CUR in preview0.
    assert_eq!(seek(&mut g, 1, 0), Ok(12));
    g.errno("fd_seek", &[i(fd), l(1), i(0), i(OUT)]).unwrap();
    assert_eq!(g.u64_at(OUT), 1);
}

#[test]
fn filestat_get_writes_preview0_layout() {
    let tmp = TempDir::new();
    let mut g = Guest::with_preopen(tmp.path());
    let fd = file(&mut g, "f.txt", b"0123456789");
    // Sentinels after the 56 bytes: preview0 must not write a preview1-sized struct.
    g.mem[BUF as usize..BUF as usize + 64].fill(0xAA);
    g.errno_in(&P0, "fd_filestat_get", &[i(fd), i(BUF)]).unwrap();
    assert_eq!(g.mem[BUF as usize + 16], filetype::REGULAR_FILE);
    assert_eq!(g.u32_at(BUF + 20), 1, "nlink");
    assert_eq!(g.u64_at(BUF + 24), 10, "size");
    assert!(g.u64_at(BUF + 40) > 0, "mtim");
    assert_eq!(g.bytes(BUF + 56, 8), &[0xAA; 8]);

    g.mem[BUF as usize..BUF as usize + 64].fill(0xAA);
    let (p, n) = g.put(PATH, b"f.txt");
    g.errno_in(&P0, "path_filestat_get", &[i(3), i(0), p, n, i(BUF)]).unwrap();
    assert_eq!((g.mem[BUF as usize + 16], g.u32_at(BUF + 20)), (filetype::REGULAR_FILE, 1));
    assert_eq!(g.u64_at(BUF + 24), 10);
    assert_eq!(g.bytes(BUF + 56, 8), &[0xAA; 8]);
    // Out of bounds is the same `Fault` as in preview1, checked against 56 bytes.
    let last = MEM_SIZE as u32 - 56;
    g.errno_in(&P0, "fd_filestat_get", &[i(fd), i(last)]).unwrap();
    let e = g.errno_in(&P0, "fd_filestat_get", &[i(fd), i(last + 1)]);
    assert_eq!(e, Err(E_FAULT));
}

#[test]
fn poll_oneoff_reads_56_byte_subscriptions() {
    let mut g = Guest::new(&RunContext::default());
    // Two clock subscriptions that are due now; the identifier is all ones, which a
    // preview1 reading would take for clock id 0xffff_ffff (`Inval`).
    let mut subs = Vec::new();
    for userdata in [7u64, 9] {
        let mut s = [0u8; 56];
        s[0..8].copy_from_slice(&userdata.to_le_bytes());
        s[8] = eventtype::CLOCK;
        s[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        s[24..28].copy_from_slice(&clockid::MONOTONIC.to_le_bytes());
        s[32..40].copy_from_slice(&0u64.to_le_bytes()); // relative timeout: now
        subs.extend_from_slice(&s);
    }
    g.put(DATA, &subs);
    g.errno_in(&P0, "poll_oneoff", &[i(DATA), i(BUF), i(2), i(OUT)]).unwrap();
    assert_eq!(g.u32_at(OUT), 2);
    for (k, userdata) in [7u64, 9].into_iter().enumerate() {
        let ev = BUF + 32 * k as u32;
        assert_eq!(g.u64_at(ev), userdata);
        assert_eq!((g.bytes(ev + 8, 2), g.mem[ev as usize + 10]), (&[0, 0][..], eventtype::CLOCK));
    }
    let e = g.errno("poll_oneoff", &[i(DATA), i(BUF), i(2), i(OUT)]);
    assert_eq!(e, Err(Errno::Inval as i32), "preview1 reads the identifier as the clock id");
    // The array bound is 56 bytes a subscription.
    let end = MEM_SIZE as u32 - 2 * 56;
    g.put(end, &subs);
    g.errno_in(&P0, "poll_oneoff", &[i(end), i(BUF), i(2), i(OUT)]).unwrap();
    let e = g.errno_in(&P0, "poll_oneoff", &[i(end + 8), i(BUF), i(2), i(OUT)]);
    assert_eq!(e, Err(E_FAULT));
}

#[test]
fn both_snapshots_work_on_one_context() {
    let tmp = TempDir::new();
    let mut g = Guest::with_preopen(tmp.path());
    // Opened through preview1, seeked and closed through preview0.
    let fd = file(&mut g, "f.txt", b"abc");
    g.errno_in(&P0, "fd_seek", &[i(fd), l(0), i(preview0::whence::SET.into()), i(OUT)]).unwrap();
    assert_eq!(g.read(fd, 8).unwrap(), b"abc");
    g.errno_in(&P0, "fd_close", &[i(fd)]).unwrap();
    assert_eq!(g.errno("fd_close", &[i(fd)]), Err(E_BADF));
}
