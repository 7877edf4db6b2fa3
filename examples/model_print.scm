;; Read a model file, print its models back in the model format, and show
;; the output terms as relations see them (defines substituted, shared).
(define models (read-models "regression.model"))
(for-each write-model models)
(write (model-outputs (car models)))
(newline)
