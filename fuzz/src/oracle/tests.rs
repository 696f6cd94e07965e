use vm::runtime::TrapCode;

use super::{Skip, Why, observe, wire};
use crate::observe::{Call, Observation, Outcome, Plan, Value};

fn round_trip(answer: Result<Observation, Skip>) {
    let bytes = wire::encode(&answer);
    let back = wire::decode(&bytes).expect("a whole answer decodes");
    assert_eq!(format!("{back:?}"), format!("{answer:?}"));
    // Every strict prefix is a child that died midway.
    for n in 0..bytes.len() {
        assert!(wire::decode(&bytes[..n]).is_none(), "prefix of {n} bytes decoded");
    }
}

#[test]
fn observations_round_trip() {
    round_trip(Ok(Observation::default()));
    round_trip(Ok(Observation {
        instantiation_trap: Some(TrapCode::MemoryOutOfBounds),
        ..Observation::default()
    }));
    round_trip(Ok(Observation {
        instantiation_trap: None,
        calls: vec![
            Outcome::Returned(vec![
                Value::I32(-1),
                Value::I64(i64::MIN),
                Value::F32(0x7fc0_0000),
                Value::F64(0x8000_0000_0000_0000),
                Value::V128(u128::MAX - 7),
                Value::FuncRef(true),
                Value::ExternRef(false),
            ]),
            Outcome::Returned(Vec::new()),
            Outcome::Trapped(TrapCode::StackOverflow),
            Outcome::Trapped(TrapCode::OutOfFuel),
        ],
        globals: vec![Some(Value::I32(7)), None],
        memories: vec![Some(vec![1, 2, 3]), None, Some(Vec::new())],
        fuel: vec![0, u64::MAX],
    }));
}

#[test]
fn skips_round_trip() {
    for why in Why::ALL {
        round_trip(Err(Skip(why, format!("{why}: détail"))));
    }
}

#[test]
fn reasons_are_indexed_by_discriminant() {
    for (i, why) in Why::ALL.iter().enumerate() {
        assert_eq!(*why as usize, i);
    }
}

#[test]
fn requests_round_trip() {
    let plan = Plan {
        calls: vec![
            Call { export: "f".to_owned(), args: vec![Value::I32(1), Value::V128(2)] },
            Call { export: String::new(), args: Vec::new() },
        ],
        globals: vec!["g".to_owned()],
        memories: vec!["m".to_owned(), "\u{0}".to_owned()],
    };
    let bytes = wire::encode_request(b"\0asm", &plan);
    let (module, back) = wire::decode_request(&bytes).expect("a whole request decodes");
    assert_eq!(module, b"\0asm");
    assert_eq!(format!("{back:?}"), format!("{plan:?}"));
    for n in 0..bytes.len() {
        assert!(wire::decode_request(&bytes[..n]).is_none(), "prefix of {n} bytes decoded");
    }
}

/// wasmi 2.0 faults on a `v128.store16_lane` with an offset past 65,535; the child
/// it runs in dies, the module is skipped, and the next module gets a new child.
#[test]
fn a_fault_of_wasmi_skips_the_module() {
    let plan_of = |m: &[u8]| Plan::draw(m, &mut arbitrary::Unstructured::new(&[])).expect("plan");
    let faults = wat::parse_str(
        r#"(module (memory 2)
             (func (export "f") (param i32 v128)
               local.get 0 local.get 1 v128.store16_lane offset=65536 0))"#,
    )
    .expect("valid");
    let fine =
        wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 7))"#).expect("valid");
    for _ in 0..2 {
        match observe(&faults, &plan_of(&faults)) {
            Err(Skip(Why::Crashed, detail)) => assert!(detail.contains("signal"), "{detail}"),
            other => panic!("wasmi ran the module: {other:?}"),
        }
        let obs = observe(&fine, &plan_of(&fine)).expect("wasmi runs it");
        assert_eq!(obs.calls, vec![Outcome::Returned(vec![Value::I32(7)])]);
    }
}
