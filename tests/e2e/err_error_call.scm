;; (error who msg irritant) is a runtime error (status 3).
(display "before")
(newline)
(error 'who "msg" 1)
(display "not reached")
