;; Found by the `diff` fuzz target (seed 20261207, inputs 11,349 and 112,088; seed
;; 11, inputs 7,138, 29,146, 104,972, 144,935 and 192,054): wasmi 2.0, the oracle,
;; runs a `v128.store8_lane` or `v128.store16_lane` whose offset is 65,536 or more
;; wrongly. Its process faults (a jump to address 0x2), or it traps or stores
;; elsewhere and computes wrong values, differently from run to run. Every engine
;; gets these right; the fuzz target compares such modules against the first
;; engine instead of wasmi (see `has_wide_lane_store` in fuzz/src/diff.rs).

;; The smallest form: wasmi faults on `store16` with zeros.
(module
  (memory 3 4)
  (func (export "store16") (param i32 v128)
    local.get 0
    local.get 1
    v128.store16_lane offset=65536 7)
  (func (export "store8") (param i32 v128)
    local.get 0
    local.get 1
    v128.store8_lane offset=131072 9)
  (func (export "load") (param i32) (result i32)
    local.get 0
    i32.load))
(assert_return (invoke "store16" (i32.const 0) (v128.const i16x8 0 0 0 0 0 0 0 0)))
(assert_return (invoke "load" (i32.const 65536)) (i32.const 0))
(assert_return (invoke "store16" (i32.const 2) (v128.const i16x8 0 1 2 3 4 5 6 0x1234)))
(assert_return (invoke "load" (i32.const 65536)) (i32.const 0x12340000))
(assert_return (invoke "store8" (i32.const 5) (v128.const i8x16 0 1 2 3 4 5 6 7 8 0xab 10 11 12 13 14 15)))
(assert_return (invoke "load" (i32.const 131076)) (i32.const 0xab00))
(assert_trap (invoke "store16" (i32.const 131071) (v128.const i64x2 0 0)) "out of bounds memory access")
(assert_trap (invoke "store8" (i32.const 65536) (v128.const i64x2 0 0)) "out of bounds memory access")
