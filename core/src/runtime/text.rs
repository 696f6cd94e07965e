//! The WebAssembly text format (`.wat`), turned into a binary module by `wat`.

use std::path::Path;

use super::error::DecodeError;

/// The binary module that the text `bytes` describe; syntax errors name `path`, line
/// and column when a path is given.
pub(crate) fn to_binary(bytes: &[u8], path: Option<&Path>) -> Result<Vec<u8>, DecodeError> {
    let mut parsed = wat::parse_bytes(bytes);
    if let (Err(e), Some(path)) = (&mut parsed, path) {
        e.set_path(path);
    }
    parsed.map(std::borrow::Cow::into_owned).map_err(|e| DecodeError::Text(e.to_string()))
}
