(load "no-such-file.scm")
