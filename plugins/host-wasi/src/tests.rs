//! Unit tests: each host function driven through its generated wrapper, with a
//! `Caller` over a `Vec<u8>` memory and a `WasiCtx`.
