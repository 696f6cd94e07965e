//! Files inside a preopen, and the ways out of it that must stay shut.

use std::os::unix::fs::symlink;

use super::*;

const RW: u64 = rights::FD_READ | rights::FD_WRITE | rights::FD_SEEK | rights::FD_TELL;

#[test]
fn prestat_names_the_preopen() {
    let tmp = TempDir::new();
    let mut g = Guest::with_preopen(tmp.path());
    g.errno("fd_prestat_get", &[i(3), i(OUT)]).unwrap();
    assert_eq!((g.mem[0], g.u32_at(OUT + 4)), (0, 8));
    g.errno("fd_prestat_dir_name", &[i(3), i(BUF), i(8)]).unwrap();
    assert_eq!(g.bytes(BUF, 8), b"/sandbox");
    assert_eq!(
        g.errno("fd_prestat_dir_name", &[i(3), i(BUF), i(4)]),
        Err(Errno::Nametoolong as i32)
    );
    assert_eq!(g.errno("fd_prestat_get", &[i(4), i(OUT)]), Err(E_BADF));
    g.errno("fd_fdstat_get", &[i(3), i(BUF)]).unwrap();
    assert_eq!(g.mem[BUF as usize], filetype::DIRECTORY);
}

#[test]
fn write_read_seek_a_file_in_the_preopen() {
    let tmp = TempDir::new();
    let mut g = Guest::with_preopen(tmp.path());
    let fd = g.open("out.txt", oflags::CREAT | oflags::TRUNC, RW, false).unwrap();
    assert_eq!(fd, 4);
    assert_eq!(g.write(fd, b"hello world").unwrap(), 11);
    assert_eq!(std::fs::read(tmp.path().join("out.txt")).unwrap(), b"hello world");

    g.errno("fd_tell", &[i(fd), i(OUT)]).unwrap();
    assert_eq!(g.u64_at(OUT), 11);
    g.errno("fd_seek", &[i(fd), l(6), i(0), i(OUT)]).unwrap();
    assert_eq!(g.u64_at(OUT), 6);
    assert_eq!(g.read(fd, 100).unwrap(), b"world");
    g.errno("fd_seek", &[i(fd), l(-5i64 as u64), i(2), i(OUT)]).unwrap();
    assert_eq!(g.u64_at(OUT), 6);

    // pwrite / pread leave the position alone.
    let mut iov = DATA.to_le_bytes().to_vec();
    iov.extend_from_slice(&5u32.to_le_bytes());
    g.put(DATA, b"HELLO");
    g.put(IOV, &iov);
    g.errno("fd_pwrite", &[i(fd), i(IOV), i(1), l(0), i(OUT)]).unwrap();
    assert_eq!(g.u32_at(OUT), 5);
    let mut iov = BUF.to_le_bytes().to_vec();
    iov.extend_from_slice(&4u32.to_le_bytes());
    iov.extend_from_slice(&(BUF + 100).to_le_bytes());
    iov.extend_from_slice(&100u32.to_le_bytes());
    g.put(IOV, &iov);
    g.errno("fd_pread", &[i(fd), i(IOV), i(2), l(0), i(OUT)]).unwrap();
    assert_eq!(g.u32_at(OUT), 11);
    assert_eq!((g.bytes(BUF, 4), g.bytes(BUF + 100, 7)), (&b"HELL"[..], &b"O world"[..]));
    g.errno("fd_tell", &[i(fd), i(OUT)]).unwrap();
    assert_eq!(g.u64_at(OUT), 6);

    // fdstat and filestat.
    g.errno("fd_fdstat_get", &[i(fd), i(BUF)]).unwrap();
    assert_eq!(g.mem[BUF as usize], filetype::REGULAR_FILE);
    assert_ne!(g.u64_at(BUF + 8) & rights::FD_WRITE, 0);
    g.errno("fd_filestat_get", &[i(fd), i(BUF)]).unwrap();
    assert_eq!((g.mem[BUF as usize + 16], g.u64_at(BUF + 32)), (filetype::REGULAR_FILE, 11));
    g.errno("fd_filestat_set_size", &[i(fd), l(3)]).unwrap();
    assert_eq!(std::fs::read(tmp.path().join("out.txt")).unwrap(), b"HEL");
    g.errno("fd_sync", &[i(fd)]).unwrap();
    g.errno("fd_datasync", &[i(fd)]).unwrap();
    g.errno("fd_advise", &[i(fd), l(0), l(0), i(1)]).unwrap();

    // Append mode through fdstat_set_flags.
    g.errno("fd_fdstat_set_flags", &[i(fd), i(1)]).unwrap();
    g.errno("fd_fdstat_get", &[i(fd), i(BUF)]).unwrap();
    assert_eq!(g.mem[BUF as usize + 2] & 1, 1);
    g.errno("fd_seek", &[i(fd), l(0), i(0), i(OUT)]).unwrap();
    g.write(fd, b"++").unwrap();
    assert_eq!(std::fs::read(tmp.path().join("out.txt")).unwrap(), b"HEL++");

    // Rights only shrink.
    g.errno("fd_fdstat_set_rights", &[i(fd), l(rights::FD_READ), l(0)]).unwrap();
    assert_eq!(g.errno("fd_fdstat_set_rights", &[i(fd), l(RW), l(0)]), Err(E_NOTCAPABLE));

    g.errno("fd_close", &[i(fd)]).unwrap();
    assert_eq!(g.errno("fd_close", &[i(fd)]), Err(E_BADF));
    assert_eq!(g.write(fd, b"x"), Err(E_BADF));
}

#[test]
fn open_flags_are_honoured() {
    let tmp = TempDir::new();
    std::fs::write(tmp.path().join("f"), b"data").unwrap();
    let mut g = Guest::with_preopen(tmp.path());
    assert_eq!(g.open("f", oflags::CREAT | oflags::EXCL, RW, false), Err(Errno::Exist as i32));
    assert_eq!(g.open("missing", 0, RW, false), Err(E_NOENT));
    assert_eq!(g.open("f", oflags::DIRECTORY, rights::FD_READ, false), Err(Errno::Notdir as i32));
    assert_eq!(g.open("f/", 0, rights::FD_READ, false), Err(Errno::Notdir as i32));
    // Read-only: writing fails on the host's open mode.
    let fd = g.open("f", 0, rights::FD_READ, false).unwrap();
    assert_eq!(g.read(fd, 10).unwrap(), b"data");
    assert!(g.write(fd, b"x").is_err());
    let fd = g.open("f", oflags::TRUNC, RW, false).unwrap();
    assert_eq!(g.read(fd, 10).unwrap(), b"");
    // "." and the directory itself.
    let dir = g.open(".", oflags::DIRECTORY, rights::FD_READDIR, false).unwrap();
    g.errno("fd_fdstat_get", &[i(dir), i(BUF)]).unwrap();
    assert_eq!(g.mem[BUF as usize], filetype::DIRECTORY);
    assert_eq!(g.errno("fd_prestat_get", &[i(dir), i(OUT)]), Err(E_BADF), "not a preopen");
    // fd_renumber moves a descriptor over another.
    g.errno("fd_renumber", &[i(dir), i(fd)]).unwrap();
    assert_eq!(g.errno("fd_close", &[i(dir)]), Err(E_BADF));
    g.errno("fd_fdstat_get", &[i(fd), i(BUF)]).unwrap();
    assert_eq!(g.mem[BUF as usize], filetype::DIRECTORY);
    assert_eq!(g.errno("fd_renumber", &[i(fd), i(77)]), Err(E_BADF));
}

#[test]
fn escapes_are_refused() {
    let tmp = TempDir::new();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(tmp.path().join("secret.txt"), b"secret").unwrap();
    std::fs::write(root.join("sub/inside.txt"), b"inside").unwrap();
    symlink("../secret.txt", root.join("up")).unwrap();
    symlink(tmp.path().join("secret.txt"), root.join("abs")).unwrap();
    symlink("..", root.join("parent")).unwrap();
    symlink("sub/inside.txt", root.join("ok")).unwrap();
    symlink("../sub/inside.txt", root.join("sub/ok2")).unwrap();
    symlink("loop", root.join("loop")).unwrap();
    let mut g = Guest::with_preopen(&root);
    let rd = rights::FD_READ;

    for (path, follow) in [
        ("../secret.txt", false),
        ("/etc/passwd", false),
        ("/", false),
        ("sub/../../secret.txt", false),
        ("sub/../sub/../../secret.txt", true),
        ("up", true),
        ("abs", true),
        ("parent/secret.txt", false),
        ("parent/root/sub/inside.txt", true),
        ("./parent", true),
        ("up/", false),
    ] {
        assert_eq!(g.open(path, 0, rd, follow), Err(E_NOTCAPABLE), "open {path} follow={follow}");
    }
    // Not following a symlink last component: O_NOFOLLOW refuses to open it.
    assert_eq!(g.open("up", 0, rd, false), Err(Errno::Loop as i32));
    assert_eq!(g.open("loop", 0, rd, true), Err(Errno::Loop as i32));
    assert_eq!(g.stat("up", true), Err(E_NOTCAPABLE));
    assert_eq!(g.stat("up", false).unwrap().0, filetype::SYMBOLIC_LINK);
    assert_eq!(g.stat("parent/secret.txt", false), Err(E_NOTCAPABLE));
    assert_eq!(g.path_op("path_create_directory", "../made"), Err(E_NOTCAPABLE));
    assert_eq!(g.path_op("path_create_directory", "parent/made"), Err(E_NOTCAPABLE));
    assert_eq!(g.path_op("path_unlink_file", "parent/secret.txt"), Err(E_NOTCAPABLE));
    assert_eq!(g.path_op("path_remove_directory", "parent/root"), Err(E_NOTCAPABLE));
    assert!(!tmp.path().join("made").exists());
    assert!(tmp.path().join("secret.txt").exists());

    // Renames and links out of the sandbox.
    let (p1, n1) = g.put(PATH, b"sub/inside.txt");
    let (p2, n2) = g.put(PATH2, b"../stolen.txt");
    assert_eq!(g.errno("path_rename", &[i(3), p1, n1, i(3), p2, n2]), Err(E_NOTCAPABLE));
    assert_eq!(g.errno("path_link", &[i(3), i(0), p1, n1, i(3), p2, n2]), Err(E_NOTCAPABLE));
    let (p1, n1) = g.put(PATH, b"../secret.txt");
    let (p2, n2) = g.put(PATH2, b"mine.txt");
    assert_eq!(g.errno("path_link", &[i(3), i(0), p1, n1, i(3), p2, n2]), Err(E_NOTCAPABLE));
    assert_eq!(g.errno("path_rename", &[i(3), p1, n1, i(3), p2, n2]), Err(E_NOTCAPABLE));

    // Symlinks whose text leaves the sandbox are not created.
    for target in ["../secret.txt", "/etc/passwd", "sub/../../x"] {
        let (t, tn) = g.put(PATH2, target.as_bytes());
        let (p, n) = g.put(PATH, b"newlink");
        assert_eq!(g.errno("path_symlink", &[t, tn, i(3), p, n]), Err(E_NOTCAPABLE), "{target}");
    }
    let (t, tn) = g.put(PATH2, b"../inside.txt");
    let (p, n) = g.put(PATH, b"sub/newlink");
    assert_eq!(g.errno("path_symlink", &[t, tn, i(3), p, n]), Ok(()), "stays inside");

    // Links that stay inside are followed; `..` inside is fine.
    let fd = g.open("ok", 0, rd, true).unwrap();
    assert_eq!(g.read(fd, 100).unwrap(), b"inside");
    let fd = g.open("sub/ok2", 0, rd, true).unwrap();
    assert_eq!(g.read(fd, 100).unwrap(), b"inside");
    let fd = g.open("sub/../sub/./inside.txt", 0, rd, false).unwrap();
    assert_eq!(g.read(fd, 100).unwrap(), b"inside");

    // A directory opened below the preopen is a sandbox of its own.
    let sub = g.open("sub", oflags::DIRECTORY, rights::FD_READDIR, false).unwrap();
    let (p, n) = g.put(PATH, b"../ok");
    let args = [i(sub), i(0), p, n, i(0), l(rd), l(0), i(0), i(OUT)];
    assert_eq!(g.errno("path_open", &args), Err(E_NOTCAPABLE));
    // Path functions need a directory descriptor.
    let (p, n) = g.put(PATH, b"x");
    assert_eq!(g.errno("path_create_directory", &[i(fd), p, n]), Err(Errno::Notdir as i32));
    assert_eq!(g.errno("path_create_directory", &[i(99), p, n]), Err(E_BADF));
    assert_eq!(g.path_op("path_create_directory", ""), Err(E_NOENT));
}

#[test]
fn readdir_lists_entries_across_calls() {
    let tmp = TempDir::new();
    std::fs::write(tmp.path().join("a.txt"), b"a").unwrap();
    std::fs::write(tmp.path().join("bb.txt"), b"bb").unwrap();
    std::fs::create_dir(tmp.path().join("c")).unwrap();
    symlink("a.txt", tmp.path().join("d")).unwrap();
    let mut g = Guest::with_preopen(tmp.path());

    // Whole listing in one call.
    g.errno("fd_readdir", &[i(3), i(BUF), i(4096), l(0), i(OUT)]).unwrap();
    let used = g.u32_at(OUT);
    let mut entries = Vec::new();
    let mut at = 0;
    while at < used {
        let base = BUF + at;
        let namlen = g.u32_at(base + 16);
        let name = String::from_utf8(g.bytes(base + 24, namlen).to_vec()).unwrap();
        entries.push((name, g.mem[(base + 20) as usize], g.u64_at(base)));
        at += 24 + namlen;
    }
    assert_eq!(at, used);
    let mut names: Vec<(&str, u8)> = entries.iter().map(|(n, t, _)| (n.as_str(), *t)).collect();
    names.sort();
    assert_eq!(
        names,
        [
            (".", filetype::DIRECTORY),
            ("..", filetype::DIRECTORY),
            ("a.txt", filetype::REGULAR_FILE),
            ("bb.txt", filetype::REGULAR_FILE),
            ("c", filetype::DIRECTORY),
            ("d", filetype::SYMBOLIC_LINK),
        ]
    );
    let cookies: Vec<u64> = entries.iter().map(|e| e.2).collect();
    assert_eq!(cookies, (1..=6).collect::<Vec<u64>>());

    // A small buffer is filled to the brim; the next call resumes from a cookie.
    g.errno("fd_readdir", &[i(3), i(BUF), i(30), l(0), i(OUT)]).unwrap();
    assert_eq!(g.u32_at(OUT), 30);
    g.errno("fd_readdir", &[i(3), i(BUF), i(4096), l(5), i(OUT)]).unwrap();
    assert_eq!(g.u32_at(BUF + 16), entries[5].0.len() as u32);
    g.errno("fd_readdir", &[i(3), i(BUF), i(4096), l(6), i(OUT)]).unwrap();
    assert_eq!(g.u32_at(OUT), 0, "past the end");

    let fd = g.open("a.txt", 0, rights::FD_READ, false).unwrap();
    assert_eq!(
        g.errno("fd_readdir", &[i(fd), i(BUF), i(4096), l(0), i(OUT)]),
        Err(Errno::Notdir as i32)
    );
}

#[test]
fn mkdir_rename_unlink_rmdir() {
    let tmp = TempDir::new();
    let mut g = Guest::with_preopen(tmp.path());
    g.path_op("path_create_directory", "d").unwrap();
    assert_eq!(g.path_op("path_create_directory", "d"), Err(Errno::Exist as i32));
    assert_eq!(g.stat("d", false).unwrap().0, filetype::DIRECTORY);
    let fd = g.open("d/f.txt", oflags::CREAT, RW, false).unwrap();
    g.write(fd, b"12345").unwrap();
    assert_eq!(g.stat("d/f.txt", false).unwrap(), (filetype::REGULAR_FILE, 5));
    assert_eq!(g.stat("d/f.txt/", false), Err(Errno::Notdir as i32));
    assert_eq!(g.path_op("path_remove_directory", "d"), Err(Errno::Notempty as i32));

    let (p1, n1) = g.put(PATH, b"d");
    let (p2, n2) = g.put(PATH2, b"e");
    g.errno("path_rename", &[i(3), p1, n1, i(3), p2, n2]).unwrap();
    assert!(tmp.path().join("e/f.txt").exists() && !tmp.path().join("d").exists());

    let (p1, n1) = g.put(PATH, b"e/f.txt");
    let (p2, n2) = g.put(PATH2, b"hard.txt");
    g.errno("path_link", &[i(3), i(0), p1, n1, i(3), p2, n2]).unwrap();
    assert_eq!(std::fs::read(tmp.path().join("hard.txt")).unwrap(), b"12345");

    assert_eq!(g.path_op("path_unlink_file", "e/f.txt/"), Err(Errno::Notdir as i32));
    assert_eq!(g.path_op("path_unlink_file", "e"), Err(Errno::Isdir as i32));
    g.path_op("path_unlink_file", "e/f.txt").unwrap();
    assert_eq!(g.path_op("path_unlink_file", "e/f.txt"), Err(E_NOENT));
    g.path_op("path_remove_directory", "e").unwrap();
    assert!(!tmp.path().join("e").exists());
    assert_eq!(g.path_op("path_remove_directory", "hard.txt"), Err(Errno::Notdir as i32));

    // Times: set mtime to a fixed value and read it back.
    let (p, n) = g.put(PATH, b"hard.txt");
    let t = 1_000_000_000_123u64;
    g.errno("path_filestat_set_times", &[i(3), i(0), p, n, l(0), l(t), i(4)]).unwrap();
    g.errno("path_filestat_get", &[i(3), i(0), p, n, i(BUF)]).unwrap();
    assert_eq!(g.u64_at(BUF + 48), t);
    assert_eq!(
        g.errno("path_filestat_set_times", &[i(3), i(0), p, n, l(0), l(t), i(4 | 8)]),
        Err(Errno::Inval as i32)
    );
}
