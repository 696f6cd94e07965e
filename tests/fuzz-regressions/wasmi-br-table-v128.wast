;; Found by the `diff` fuzz target (seed 20261207, input 52,316): wasmi 2.0, the
;; oracle, moves a `v128` wrongly when a `br_table` with distinct targets carries
;; it down the stack: the target gets zeros, or the vector's lanes shifted by 64
;; bits. Every engine gets these right; the fuzz target skips such modules when
;; every engine agrees against wasmi (see `oracle_bug` in fuzz/src/diff.rs).

;; Reduced from input 52,316: a second vector under the branch's operand, so the
;; result has to move down one slot (wasmi: zeros).
(module
  (func (export "v128-under") (param i32) (result v128)
    block (result v128)
      block
        v128.const i32x4 9 9 9 9
        v128.const i32x4 1 2 3 4
        local.get 0
        br_table 1 2 2
      end
      v128.const i32x4 7 7 7 7
    end))
(assert_return (invoke "v128-under" (i32.const 0)) (v128.const i32x4 1 2 3 4))
(assert_return (invoke "v128-under" (i32.const 1)) (v128.const i32x4 1 2 3 4))
(assert_return (invoke "v128-under" (i32.const 7)) (v128.const i32x4 1 2 3 4))

;; An i32 under it (wasmi: lanes 0 0 1 2).
(module
  (func (export "i32-under") (param i32) (result v128)
    block (result v128)
      block
        i32.const 9
        v128.const i32x4 1 2 3 4
        local.get 0
        br_table 1 2 2
      end
      v128.const i32x4 7 7 7 7
    end))
(assert_return (invoke "i32-under" (i32.const 0)) (v128.const i32x4 1 2 3 4))
(assert_return (invoke "i32-under" (i32.const 1)) (v128.const i32x4 1 2 3 4))
