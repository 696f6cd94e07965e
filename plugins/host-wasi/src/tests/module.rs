//! Every function of `wasi_snapshot_preview1`, with its wasm signature, is present.

use vm_core::runtime::ValType::{self, I32, I64};

use crate::WASI_MODULE;

/// `(name, params, results)` of every preview1 function (from the witx).
const PREVIEW1: &[(&str, &[ValType], &[ValType])] = &[
    ("args_get", &[I32, I32], &[I32]),
    ("args_sizes_get", &[I32, I32], &[I32]),
    ("environ_get", &[I32, I32], &[I32]),
    ("environ_sizes_get", &[I32, I32], &[I32]),
    ("clock_res_get", &[I32, I32], &[I32]),
    ("clock_time_get", &[I32, I64, I32], &[I32]),
    ("fd_advise", &[I32, I64, I64, I32], &[I32]),
    ("fd_allocate", &[I32, I64, I64], &[I32]),
    ("fd_close", &[I32], &[I32]),
    ("fd_datasync", &[I32], &[I32]),
    ("fd_fdstat_get", &[I32, I32], &[I32]),
    ("fd_fdstat_set_flags", &[I32, I32], &[I32]),
    ("fd_fdstat_set_rights", &[I32, I64, I64], &[I32]),
    ("fd_filestat_get", &[I32, I32], &[I32]),
    ("fd_filestat_set_size", &[I32, I64], &[I32]),
    ("fd_filestat_set_times", &[I32, I64, I64, I32], &[I32]),
    ("fd_pread", &[I32, I32, I32, I64, I32], &[I32]),
    ("fd_prestat_get", &[I32, I32], &[I32]),
    ("fd_prestat_dir_name", &[I32, I32, I32], &[I32]),
    ("fd_pwrite", &[I32, I32, I32, I64, I32], &[I32]),
    ("fd_read", &[I32, I32, I32, I32], &[I32]),
    ("fd_readdir", &[I32, I32, I32, I64, I32], &[I32]),
    ("fd_renumber", &[I32, I32], &[I32]),
    ("fd_seek", &[I32, I64, I32, I32], &[I32]),
    ("fd_sync", &[I32], &[I32]),
    ("fd_tell", &[I32, I32], &[I32]),
    ("fd_write", &[I32, I32, I32, I32], &[I32]),
    ("path_create_directory", &[I32, I32, I32], &[I32]),
    ("path_filestat_get", &[I32, I32, I32, I32, I32], &[I32]),
    ("path_filestat_set_times", &[I32, I32, I32, I32, I64, I64, I32], &[I32]),
    ("path_link", &[I32, I32, I32, I32, I32, I32, I32], &[I32]),
    ("path_open", &[I32, I32, I32, I32, I32, I64, I64, I32, I32], &[I32]),
    ("path_readlink", &[I32, I32, I32, I32, I32, I32], &[I32]),
    ("path_remove_directory", &[I32, I32, I32], &[I32]),
    ("path_rename", &[I32, I32, I32, I32, I32, I32], &[I32]),
    ("path_symlink", &[I32, I32, I32, I32, I32], &[I32]),
    ("path_unlink_file", &[I32, I32, I32], &[I32]),
    ("poll_oneoff", &[I32, I32, I32, I32], &[I32]),
    ("proc_exit", &[I32], &[]),
    ("proc_raise", &[I32], &[I32]),
    ("sched_yield", &[], &[I32]),
    ("random_get", &[I32, I32], &[I32]),
    ("sock_accept", &[I32, I32, I32], &[I32]),
    ("sock_recv", &[I32, I32, I32, I32, I32, I32], &[I32]),
    ("sock_send", &[I32, I32, I32, I32, I32], &[I32]),
    ("sock_shutdown", &[I32, I32], &[I32]),
];

#[test]
fn every_preview1_function_with_its_signature() {
    assert_eq!(WASI_MODULE.module, "wasi_snapshot_preview1");
    for (name, params, results) in PREVIEW1 {
        let f = WASI_MODULE
            .functions
            .iter()
            .find(|f| f.name == *name)
            .unwrap_or_else(|| panic!("missing {name}"));
        assert_eq!((f.params, f.results), (*params, *results), "{name}");
    }
    assert_eq!(WASI_MODULE.functions.len(), PREVIEW1.len(), "no extra functions");
}

/// Preview0 has every preview1 function but `sock_accept` (added in preview1), each
/// with the same wasm signature; only four decode or encode a different layout.
#[test]
fn every_preview0_function_with_its_signature() {
    use crate::WASI_UNSTABLE_MODULE as P0;
    assert_eq!(P0.module, "wasi_unstable");
    for (name, params, results) in PREVIEW1.iter().filter(|(n, ..)| *n != "sock_accept") {
        let f = P0.functions.iter().find(|f| f.name == *name);
        let f = f.unwrap_or_else(|| panic!("missing {name}"));
        assert_eq!((f.params, f.results), (*params, *results), "{name}");
        let p1 = WASI_MODULE.functions.iter().find(|f| f.name == *name).unwrap();
        let differs = ["fd_seek", "fd_filestat_get", "path_filestat_get", "poll_oneoff"];
        assert_eq!(
            std::ptr::fn_addr_eq(f.call, p1.call),
            !differs.contains(name),
            "{name}: preview0 has its own implementation exactly where the ABI differs"
        );
    }
    assert_eq!(P0.functions.len(), PREVIEW1.len() - 1, "no extra functions");
    assert!(std::ptr::fn_addr_eq(P0.new_state, WASI_MODULE.new_state), "one state type");
}
