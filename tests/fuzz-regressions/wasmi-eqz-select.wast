;; Found by the `diff` fuzz target (seed 1, inputs 121, 735 and 99242): wasmi 2.0,
;; the oracle, yields the wrong operand of a `select` whose condition is an
;; `i32.eqz` or a `ref.is_null`, so it computes a wrong value or traps on a
;; division that wasm-smith guarded with `select(1, x, x == 0)`. Both engines get
;; these right; the fuzz target skips such modules when every engine agrees
;; against wasmi (see `oracle_bug` in fuzz/src/diff.rs).

;; The smallest form: local 0 is 1, so the condition is 0 and `select` yields 5
;; (wasmi: 1).
(module
  (func (export "const-operands") (result i32) (local i32)
    i32.const 1
    local.set 0
    i32.const 1
    i32.const 5
    local.get 0
    i32.eqz
    select))
(assert_return (invoke "const-operands") (i32.const 5))

;; Input 735, reduced with wasm-shrink: the divisor is -66584996, so the quotient
;; is 0 and the global ends at clz(0) ^ 1 = 33 (wasmi: 30).
(module
  (global $g (export "Z") (mut i32) (i32.const 0))
  (func (export "run") (param i64) (result i64) (local funcref i32)
    i32.const 1
    if
    else
      unreachable
    end
    i32.const 1
    local.set 2
    i32.const 1
    i32.const 1
    i32.const -66584996
    local.get 2
    i32.eqz
    select
    i32.div_u
    i32.clz
    i32.const 1
    i32.xor
    global.set $g
    i64.const 0)
  (func (export "g") (result i32) global.get $g))
(assert_return (invoke "run" (i64.const 0)) (i64.const 0))
(assert_return (invoke "g") (i32.const 33))

;; Input 121's guard: local 0 is 0, so the divisor is 1 and nothing traps (wasmi
;; trapped "integer divide by zero" in the full module's start function).
(module
  (func (export "guarded-rem") (result i32) (local f64 f64 i32)
    i32.const -1050193111
    i32.const 1
    local.get 2
    local.get 2
    i32.eqz
    select
    i32.rem_u))
(assert_return (invoke "guarded-rem") (i32.const 0))
;; Input 99242, reduced with wasm-shrink: the parameter is null, so `select` yields
;; 0 and the global ends at 1 (wasmi: 0).
(module
  (table 1 717 funcref)
  (global $g (export "3") (mut i32) (i32.const 0))
  (func (export "run") (param f32 funcref)
    i32.const 1
    if
    else
      unreachable
    end
    i32.const 0
    table.size 0
    local.get 1
    ref.is_null
    select
    i32.const 1
    i32.xor
    global.set $g)
  (func (export "g") (result i32) global.get $g))
(assert_return (invoke "run" (f32.const 0) (ref.null func)))
(assert_return (invoke "g") (i32.const 1))
