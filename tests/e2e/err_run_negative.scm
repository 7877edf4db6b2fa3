;; (run n ...) with a negative n is an error in pkanren (a deviation:
;; faster-miniKanren treats it as run*).
(display "before")
(newline)
(run -3 (q) (== q 1))
