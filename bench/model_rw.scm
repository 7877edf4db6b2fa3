;; model-rw-1m (bench/rewrites/model-rw-1m.bench): read the unit-law model
;; beside this file into hash-consed terms and print it back in the model
;; format (issue 11).  The entry copies this file next to the generated
;; model, since read-models takes a relative name from the calling file's
;; directory.
(write-model (car (read-models "unitlaw.model")))
