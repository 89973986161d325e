"""One module per ``connshift`` command (or command group). Each parses its options, calls
one library function and renders the result; each exposes ``register(app)``, which
:mod:`connshift.cli.main` calls in the order ``connshift --help`` lists the commands."""
