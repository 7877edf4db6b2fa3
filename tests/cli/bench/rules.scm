;; tests/cli/bench: a relation that never rewrites (every model unchanged)
(define (none a b) fail)
