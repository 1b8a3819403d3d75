"""Integration tests: the real `hello-birthday` process over real sockets, with faults."""
