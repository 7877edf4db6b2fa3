;; An invalid # token.
(display "not printed")
(list 1 #q 2)
