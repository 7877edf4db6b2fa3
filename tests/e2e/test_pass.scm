;; The built-in test form, as in test-check.scm: all pass -> exit 0.
(load "mk-vicare.scm")
(load "mk.scm")
(load "test-check.scm")

(load "_appendo.scm")

(test "appendo forward"
  (run* (q) (appendo '(1 2) '(3) q))
  '((1 2 3)))
(test "appendo backward"
  (run* (x y) (appendo x y '(a)))
  '((() (a)) ((a) ())))
(test 'symbol-title (+ 1 2) 3)
(test "=/= reified" (run* (q) (=/= q 'z)) '((_.0 (=/= ((_.0 z))))))
(test "strings \"quoted\"" (string-append "a" "b") "ab")
(display test-failed) (newline)
