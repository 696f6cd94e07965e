//! The oracle's requests and answers as bytes: how a module and its plan cross the
//! socket to the child process that runs wasmi, and the observation back (see
//! [`crate::isolate`]).
//!
//! Little-endian, lengths as `u32`, each enum as a one-byte tag. A decoder that
//! meets anything it did not expect returns `None`: the child is ours, so that is
//! a child that died midway, not a format to negotiate.

use vm::runtime::TrapCode;

use super::{Skip, Why};
use crate::observe::{Call, Observation, Outcome, Plan, Value};

/// Every trap code the oracle reports (see `oracle::trap_code`), by tag.
const TRAPS: [TrapCode; 10] = [
    TrapCode::Unreachable,
    TrapCode::MemoryOutOfBounds,
    TrapCode::TableOutOfBounds,
    TrapCode::IndirectCallToNull,
    TrapCode::IntegerDivisionByZero,
    TrapCode::IntegerOverflow,
    TrapCode::BadConversionToInteger,
    TrapCode::StackOverflow,
    TrapCode::BadSignature,
    TrapCode::OutOfFuel,
];

const NONE: u8 = 0xff;

/// The bytes of a request: the module, then the plan.
pub fn encode_request(module: &[u8], plan: &Plan) -> Vec<u8> {
    let mut w = Vec::new();
    bytes(&mut w, module);
    len(&mut w, plan.calls.len());
    for call in &plan.calls {
        bytes(&mut w, call.export.as_bytes());
        len(&mut w, call.args.len());
        call.args.iter().for_each(|v| value(&mut w, v));
    }
    for names in [&plan.globals, &plan.memories] {
        len(&mut w, names.len());
        names.iter().for_each(|n| bytes(&mut w, n.as_bytes()));
    }
    w
}

/// The module and plan in `bytes`, or `None` when they are not one whole request.
pub fn decode_request(bytes: &[u8]) -> Option<(&[u8], Plan)> {
    let mut r = Reader { bytes };
    let module = r.bytes()?;
    let mut plan = Plan::default();
    for _ in 0..r.u32()? {
        let export = r.string()?;
        let args = (0..r.u32()?).map(|_| r.value()).collect::<Option<_>>()?;
        plan.calls.push(Call { export, args });
    }
    for _ in 0..r.u32()? {
        plan.globals.push(r.string()?);
    }
    for _ in 0..r.u32()? {
        plan.memories.push(r.string()?);
    }
    r.bytes.is_empty().then_some((module, plan))
}

/// The bytes of an answer.
pub fn encode(answer: &Result<Observation, Skip>) -> Vec<u8> {
    let mut w = Vec::new();
    match answer {
        Err(Skip(why, detail)) => {
            w.push(1);
            w.push(*why as u8);
            bytes(&mut w, detail.as_bytes());
        }
        Ok(obs) => {
            w.push(0);
            w.push(obs.instantiation_trap.map_or(NONE, trap));
            len(&mut w, obs.calls.len());
            for call in &obs.calls {
                match call {
                    Outcome::Returned(vals) => {
                        w.push(0);
                        len(&mut w, vals.len());
                        vals.iter().for_each(|v| value(&mut w, v));
                    }
                    Outcome::Trapped(code) => {
                        w.push(1);
                        w.push(trap(*code));
                    }
                    Outcome::Threw(tag, vals) => {
                        w.push(2);
                        w.extend_from_slice(&tag.to_le_bytes());
                        len(&mut w, vals.len());
                        vals.iter().for_each(|v| value(&mut w, v));
                    }
                }
            }
            len(&mut w, obs.globals.len());
            for g in &obs.globals {
                match g {
                    Some(v) => {
                        w.push(1);
                        value(&mut w, v);
                    }
                    None => w.push(0),
                }
            }
            len(&mut w, obs.memories.len());
            for m in &obs.memories {
                match m {
                    Some(data) => {
                        w.push(1);
                        bytes(&mut w, data);
                    }
                    None => w.push(0),
                }
            }
            len(&mut w, obs.fuel.len());
            obs.fuel.iter().for_each(|f| w.extend_from_slice(&f.to_le_bytes()));
        }
    }
    w
}

/// The answer in `bytes`, or `None` when they are not one whole answer.
pub fn decode(bytes: &[u8]) -> Option<Result<Observation, Skip>> {
    let mut r = Reader { bytes };
    let answer = match r.u8()? {
        1 => {
            let why = *Why::ALL.get(usize::from(r.u8()?))?;
            let detail = r.string()?;
            Err(Skip(why, detail))
        }
        0 => {
            let mut obs = Observation {
                instantiation_trap: match r.u8()? {
                    NONE => None,
                    t => Some(*TRAPS.get(usize::from(t))?),
                },
                ..Observation::default()
            };
            for _ in 0..r.u32()? {
                obs.calls.push(match r.u8()? {
                    0 => {
                        Outcome::Returned((0..r.u32()?).map(|_| r.value()).collect::<Option<_>>()?)
                    }
                    1 => Outcome::Trapped(*TRAPS.get(usize::from(r.u8()?))?),
                    2 => {
                        let tag = r.u32()?;
                        Outcome::Threw(
                            tag,
                            (0..r.u32()?).map(|_| r.value()).collect::<Option<_>>()?,
                        )
                    }
                    _ => return None,
                });
            }
            for _ in 0..r.u32()? {
                obs.globals.push(if r.u8()? == 1 { Some(r.value()?) } else { None });
            }
            for _ in 0..r.u32()? {
                obs.memories.push(if r.u8()? == 1 { Some(r.bytes()?.to_vec()) } else { None });
            }
            for _ in 0..r.u32()? {
                obs.fuel.push(r.u64()?);
            }
            Ok(obs)
        }
        _ => return None,
    };
    r.bytes.is_empty().then_some(answer)
}

fn trap(code: TrapCode) -> u8 {
    // A code the oracle cannot report becomes one the decoder rejects.
    TRAPS.iter().position(|t| *t == code).map_or(NONE - 1, |i| i as u8)
}

fn len(w: &mut Vec<u8>, n: usize) {
    w.extend_from_slice(&(n as u32).to_le_bytes());
}

fn bytes(w: &mut Vec<u8>, b: &[u8]) {
    len(w, b.len());
    w.extend_from_slice(b);
}

fn value(w: &mut Vec<u8>, v: &Value) {
    match *v {
        Value::I32(x) => {
            w.push(0);
            w.extend_from_slice(&x.to_le_bytes());
        }
        Value::I64(x) => {
            w.push(1);
            w.extend_from_slice(&x.to_le_bytes());
        }
        Value::F32(x) => {
            w.push(2);
            w.extend_from_slice(&x.to_le_bytes());
        }
        Value::F64(x) => {
            w.push(3);
            w.extend_from_slice(&x.to_le_bytes());
        }
        Value::V128(x) => {
            w.push(4);
            w.extend_from_slice(&x.to_le_bytes());
        }
        Value::FuncRef(non_null) => w.extend_from_slice(&[5, u8::from(non_null)]),
        Value::ExternRef(non_null) => w.extend_from_slice(&[6, u8::from(non_null)]),
        Value::ExnRef(non_null) => w.extend_from_slice(&[7, u8::from(non_null)]),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.bytes.split_first_chunk::<N>()?;
        self.bytes = rest;
        Some(*head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|[b]| b)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        let (head, rest) = self.bytes.split_at_checked(n)?;
        self.bytes = rest;
        Some(head)
    }

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }

    fn value(&mut self) -> Option<Value> {
        Some(match self.u8()? {
            0 => Value::I32(i32::from_le_bytes(self.take()?)),
            1 => Value::I64(i64::from_le_bytes(self.take()?)),
            2 => Value::F32(u32::from_le_bytes(self.take()?)),
            3 => Value::F64(u64::from_le_bytes(self.take()?)),
            4 => Value::V128(u128::from_le_bytes(self.take()?)),
            5 => Value::FuncRef(self.u8()? != 0),
            6 => Value::ExternRef(self.u8()? != 0),
            7 => Value::ExnRef(self.u8()? != 0),
            _ => return None,
        })
    }
}
