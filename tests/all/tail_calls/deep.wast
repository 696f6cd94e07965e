;; Tail calls run in constant stack space on every engine: mutual recursion a
;; million deep through return_call, return_call_indirect and imports, between
;; functions whose argument areas differ, in modules with and without a memory.

(module $m
  (type $t2 (func (param i64 i64) (result i64)))
  (type $t5 (func (param i64 i64 i64 i64 i64) (result i64)))
  (table 4 funcref)
  (elem (i32.const 0) $even $odd $wide $narrow)
  (memory 1)

  ;; return_call between two functions of the same type.
  (func $even (export "even") (param i64 i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))
                              (i64.add (local.get 1) (i64.const 1))))))
  ;; return_call_indirect back.
  (func $odd (export "odd") (param i64 i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.sub (i64.const 0) (local.get 1)))
      (else (return_call_indirect (type $t2)
              (i64.sub (local.get 0) (i64.const 1))
              (i64.add (local.get 1) (i64.const 1))
              (i32.const 0)))))

  ;; A frame with a small area tail-calls one with a large area and back; a
  ;; memory access on each side checks the base register survives.
  (func $narrow (export "narrow") (param i64 i64) (result i64)
    (local f64 f64 f64)
    (i64.store (i32.const 8) (local.get 0))
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.add (local.get 1) (i64.load (i32.const 8))))
      (else (return_call $wide (i64.sub (local.get 0) (i64.const 1))
                               (local.get 1) (i64.const 1) (i64.const 2) (i64.const 3)))))
  (func $wide (export "wide") (param i64 i64 i64 i64 i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.add (local.get 1) (i64.add (local.get 2) (i64.add (local.get 3) (local.get 4)))))
      (else (return_call_indirect (type $t2)
              (i64.sub (local.get 0) (i64.const 1))
              (i64.add (local.get 1) (i64.add (local.get 2) (i64.add (local.get 3) (local.get 4))))
              (i32.const 3)))))

  ;; A direct call of a function that tail-calls: the caller sees the results and
  ;; its memory.
  (func (export "call_even") (param i64) (result i64)
    (i64.store (i32.const 16) (i64.const 7))
    (i64.add (call $even (local.get 0) (i64.const 0)) (i64.load (i32.const 16))))
)

(assert_return (invoke "even" (i64.const 1000000) (i64.const 0)) (i64.const 1000000))
(assert_return (invoke "even" (i64.const 1000001) (i64.const 0)) (i64.const -1000001))
(assert_return (invoke "odd" (i64.const 1000000) (i64.const 0)) (i64.const -1000000))
(assert_return (invoke "narrow" (i64.const 1000000) (i64.const 0)) (i64.const 3000000))
(assert_return (invoke "narrow" (i64.const 1000001) (i64.const 0)) (i64.const 3000006))
(assert_return (invoke "wide" (i64.const 3) (i64.const 1) (i64.const 1) (i64.const 1) (i64.const 1)) (i64.const 10))
(assert_return (invoke "call_even" (i64.const 1000000)) (i64.const 1000007))
(register "m" $m)

;; Through imports, into another instance (without a memory) and back.
(module $n
  (type $t2 (func (param i64 i64) (result i64)))
  (import "m" "even" (func $even (type $t2)))
  (func $ping (export "ping") (param i64 i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (local.get 1))
      (else (return_call $pong (i64.sub (local.get 0) (i64.const 1)) (local.get 1)))))
  (func $pong (param i64 i64) (result i64)
    (return_call $ping (local.get 0) (i64.add (local.get 1) (i64.const 2))))
  (func (export "to_m") (param i64) (result i64)
    (return_call $even (local.get 0) (i64.const 5)))
)
(assert_return (invoke "ping" (i64.const 1000000) (i64.const 0)) (i64.const 2000000))
(assert_return (invoke "to_m" (i64.const 1000000)) (i64.const 1000005))
(register "n" $n)

(module $p
  (type $t2 (func (param i64 i64) (result i64)))
  (import "n" "ping" (func $ping (type $t2)))
  (import "spectest" "print_i64" (func $print (param i64)))
  (func $loop (export "loop") (param i64 i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (return_call $ping (i64.const 10) (local.get 1)))
      (else (return_call $loop (i64.sub (local.get 0) (i64.const 1)) (i64.add (local.get 1) (i64.const 1))))))
  (func (export "host") (param i64)
    (return_call $print (local.get 0)))
)
(assert_return (invoke "loop" (i64.const 1000000) (i64.const 0)) (i64.const 1000020))
(assert_return (invoke "host" (i64.const 1)))

;; A function without parameters or results tail-calls one with some, in a loop
;; and in a cycle: the stack pointer its caller gets back must not drift.
(module
  (global $g (mut i32) (i32.const 0))
  (global $n (mut i32) (i32.const 0))
  (func $zero
    (return_call $one (i32.const 1) (i64.const 2) (f64.const 3)))
  (func $one (param i32 i64 f64)
    (global.set $g (i32.add (global.get $g) (local.get 0))))
  (func (export "loop") (param i32) (result i32)
    (loop $l
      (call $zero)
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (global.get $g))
  (func $cycle0
    (if (global.get $n)
      (then (return_call $cycle1 (global.get $n) (i64.const 7)))))
  (func $cycle1 (param i32 i64)
    (global.set $n (i32.sub (local.get 0) (i32.const 1)))
    (return_call $cycle0))
  (func (export "cycle") (param i32) (result i32)
    (global.set $n (local.get 0))
    (call $cycle0)
    (global.get $n))
)
(assert_return (invoke "loop" (i32.const 1000000)) (i32.const 1000000))
(assert_return (invoke "cycle" (i32.const 1000000)) (i32.const 0))
