use wasmparser::{BinaryReader, OperatorsReader};

use super::*;

/// Records the operators it is given.
#[derive(Default)]
struct Names {
    seen: Vec<&'static str>,
    offset: u64,
}

impl<'a> OperatorSink<'a> for Names {
    fn translate(&mut self, _op: Operator<'a>, name: &'static str) -> Result<(), CompileError> {
        self.seen.push(name);
        Ok(())
    }

    fn offset(&self) -> u64 {
        self.offset
    }
}

fn run(body: &[u8]) -> (Names, Result<(), CompileError>) {
    let mut sink = Names::default();
    let mut reader = OperatorsReader::new(BinaryReader::new(body, 0));
    while !reader.eof() {
        sink.offset = reader.original_position();
        let r = reader.visit_operator(&mut Wasm2Operators(&mut sink)).expect("readable body");
        if r.is_err() {
            return (sink, r);
        }
    }
    (sink, Ok(()))
}

#[test]
fn wasm2_operators_reach_the_sink() {
    // i32.const 1; i32.extend8_s; drop; v128.const 0; drop; end
    let mut body = vec![0x41, 0x01, 0xc0, 0x1a, 0xfd, 0x0c];
    body.extend([0; 16]);
    body.extend([0x1a, 0x0b]);
    let (sink, r) = run(&body);
    assert_eq!(r, Ok(()));
    assert_eq!(sink.seen, ["I32Const", "I32Extend8S", "Drop", "V128Const", "Drop", "End"]);
}

#[test]
fn other_proposals_are_unsupported_with_their_name() {
    // i32.const 1; ref.i31; end
    let (sink, r) = run(&[0x41, 0x01, 0xfb, 0x1c, 0x0b]);
    assert_eq!(sink.seen, ["I32Const"]);
    let e = r.unwrap_err();
    assert_eq!(e, CompileError::Unsupported { op: "RefI31", proposal: "gc", offset: 2 });
    assert_eq!(e.to_string(), "unsupported: RefI31 (feature gc) at offset 0x2");
}

#[test]
fn wasm3_operators_but_gc_reach_the_sink() {
    // return_call 0; end
    let (sink, r) = run(&[0x12, 0x00, 0x0b]);
    assert_eq!(r, Ok(()));
    assert_eq!(sink.seen, ["ReturnCall", "End"]);
}
