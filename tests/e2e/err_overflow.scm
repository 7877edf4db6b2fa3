;; No bignums: 64-bit fixnum overflow is a runtime error.
(display "before")
(newline)
(write (* 4611686018427387903 2))
(newline)
(write (+ 9223372036854775807 1))
