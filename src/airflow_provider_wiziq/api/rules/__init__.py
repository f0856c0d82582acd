"""Rules that do no I/O: how a series expands, what "the same series" is, a declared term, its plan,
and the verdict on a wait. Nothing here sends a request (a test checks the imports)."""
