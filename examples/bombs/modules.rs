//! The translator bombs, generated as binary modules with a small LEB128 writer: many
//! functions, many locals, deep nesting and a large `br_table`. Each exports `run`, whose
//! result for a given argument is known, so a test can check it ran the code it compiled.

/// One bomb shape.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// `n` functions, in chains of calls at most 100 long.
    Functions,
    /// One function with `n` `i32` locals, each copied to the next.
    Locals,
    /// `n` nested blocks and loops, the innermost branching to the outermost.
    Nesting,
    /// A `br_table` of `n` entries over four blocks.
    BrTable,
    /// A `br_table` of `n` entries over `n / 10` nested blocks, every depth a target.
    BrTableDeep,
}

impl Shape {
    /// Every shape, with the size the issue names.
    pub const ALL: [(Shape, u32); 5] = [
        (Shape::Functions, 100_000),
        (Shape::Locals, 50_000),
        (Shape::Nesting, 10_000),
        (Shape::BrTable, 100_000),
        (Shape::BrTableDeep, 100_000),
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Functions => "functions",
            Shape::Locals => "locals",
            Shape::Nesting => "nesting",
            Shape::BrTable => "br_table",
            Shape::BrTableDeep => "br_table_deep",
        }
    }

    /// The module of size `n`, the argument to call `run` with and its result.
    pub fn module(self, n: u32) -> (Vec<u8>, Option<i32>, i32) {
        match self {
            Shape::Functions => functions(n),
            Shape::Locals => locals(n),
            Shape::Nesting => nesting(n),
            Shape::BrTable => br_table(n),
            Shape::BrTableDeep => br_table_deep(n),
        }
    }
}

fn leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn sleb(out: &mut Vec<u8>, mut v: i32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0);
        out.push(if done { byte } else { byte | 0x80 });
        if done {
            return;
        }
    }
}

const I32: u8 = 0x7f;

/// A module of one function type, `bodies.len()` functions of it and `run` exporting
/// the last one. A body is its locals declaration and code, without the final `end`.
fn module(params: &[u8], bodies: &[Vec<u8>]) -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    let section = |m: &mut Vec<u8>, id: u8, body: Vec<u8>| {
        m.push(id);
        leb(m, body.len() as u32);
        m.extend(body);
    };
    let mut ty = vec![1, 0x60];
    leb(&mut ty, params.len() as u32);
    ty.extend_from_slice(params);
    ty.extend([1, I32]);
    section(&mut m, 1, ty);
    let mut funcs = Vec::new();
    leb(&mut funcs, bodies.len() as u32);
    funcs.extend(std::iter::repeat_n(0u8, bodies.len()));
    section(&mut m, 3, funcs);
    let mut export = vec![1, 3];
    export.extend(b"run");
    export.push(0);
    leb(&mut export, bodies.len() as u32 - 1);
    section(&mut m, 7, export);
    let mut code = Vec::new();
    leb(&mut code, bodies.len() as u32);
    for b in bodies {
        leb(&mut code, b.len() as u32 + 1);
        code.extend(b);
        code.push(0x0b);
    }
    section(&mut m, 10, code);
    m
}

/// `f(i)` is `1` when `i % 100 == 0`, else `f(i - 1) + 1`.
fn functions(n: u32) -> (Vec<u8>, Option<i32>, i32) {
    let bodies: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let mut b = vec![0];
            if i % 100 == 0 {
                b.extend([0x41, 1]);
            } else {
                b.push(0x10);
                leb(&mut b, i - 1);
                b.extend([0x41, 1, 0x6a]);
            }
            b
        })
        .collect();
    (module(&[], &bodies), None, ((n - 1) % 100 + 1) as i32)
}

/// Local 0 set to 41, copied through every local, plus one.
fn locals(n: u32) -> (Vec<u8>, Option<i32>, i32) {
    let mut b = vec![1];
    leb(&mut b, n);
    b.push(I32);
    b.extend([0x41, 41, 0x21, 0]);
    for k in 0..n - 1 {
        b.push(0x20);
        leb(&mut b, k);
        b.push(0x21);
        leb(&mut b, k + 1);
    }
    b.push(0x20);
    leb(&mut b, n - 1);
    b.extend([0x41, 1, 0x6a]);
    (module(&[], &[b]), None, 42)
}

/// `n` nested blocks and loops; the innermost leaves them all when the argument is
/// non-zero; then `7`.
fn nesting(n: u32) -> (Vec<u8>, Option<i32>, i32) {
    let mut b = vec![0];
    for k in 0..n {
        b.extend([if k % 2 == 0 { 0x02 } else { 0x03 }, 0x40]);
    }
    b.extend([0x20, 0, 0x0d]);
    leb(&mut b, n - 1);
    b.extend(std::iter::repeat_n(0x0b, n as usize));
    b.extend([0x41, 7]);
    (module(&[I32], &[b]), Some(1), 7)
}

/// `br_table` of `n` entries cycling over four blocks; block `d` returns `10 + d`.
fn br_table(n: u32) -> (Vec<u8>, Option<i32>, i32) {
    let mut b = vec![0, 0x02, 0x40, 0x02, 0x40, 0x02, 0x40, 0x02, 0x40, 0x20, 0, 0x0e];
    leb(&mut b, n);
    for k in 0..n {
        leb(&mut b, k % 4);
    }
    b.push(0);
    for d in 0..4 {
        b.extend([0x0b, 0x41]);
        sleb(&mut b, 10 + d);
        b.push(0x0f);
    }
    b.extend([0x41, 0]);
    let arg = 100_001 % n as i32;
    (module(&[I32], &[b]), Some(arg), 10 + (arg % 4))
}

/// `br_table` of `n` entries over `n / 10` nested blocks (entry `k` leaves `k % depth`
/// of them); block `d` (counted from the innermost) returns `d`.
fn br_table_deep(n: u32) -> (Vec<u8>, Option<i32>, i32) {
    let depth = n / 10;
    let mut b = vec![0];
    b.extend(std::iter::repeat_n([0x02, 0x40], depth as usize).flatten());
    b.extend([0x20, 0, 0x0e]);
    leb(&mut b, n);
    for k in 0..n {
        leb(&mut b, k % depth);
    }
    b.push(0);
    for d in 0..depth {
        b.extend([0x0b, 0x41]);
        sleb(&mut b, d as i32);
        b.push(0x0f);
    }
    b.extend([0x41, 0]);
    let arg = 123_457 % n as i32;
    (module(&[I32], &[b]), Some(arg), arg % depth as i32)
}
