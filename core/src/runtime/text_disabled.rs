//! A build without the `wat` feature reads binary modules only.

use std::path::Path;

use super::error::DecodeError;

/// Always an error: input without the `\0asm` magic number is text, which this build
/// does not read.
pub(crate) fn to_binary(_bytes: &[u8], _path: Option<&Path>) -> Result<Vec<u8>, DecodeError> {
    Err(DecodeError::Text(
        "not a WebAssembly binary (no `\\0asm` magic number), and this build reads no text \
         format (built without feature `wat`)"
            .to_owned(),
    ))
}
