;; A guest for custom-vm: logs through `env.log`, reads `env.clock_ms`, and calls a
;; wasm function three times (counted by the observer).
(module
  (import "env" "log" (func $log (param i32 i32)))
  (import "env" "clock_ms" (func $clock_ms (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello from the guest")
  (data (i32.const 32) "the clock runs")
  (func $twice (param i32) (result i32) (i32.add (local.get 0) (local.get 0)))
  (func (export "_start")
    (call $log (i32.const 0) (i32.const 20))
    (if (i64.ge_s (call $clock_ms) (i64.const 0))
      (then (call $log (i32.const 32) (i32.const 14))))
    (drop (call $twice (call $twice (call $twice (i32.const 1)))))))
