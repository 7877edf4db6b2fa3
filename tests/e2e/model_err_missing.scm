;; A directory or a missing file given to read-models: status 2, at the call.
(read-models "models/no-such.model")
