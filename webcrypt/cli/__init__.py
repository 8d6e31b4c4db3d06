"""The `webcrypt` command (click): the only composition root of filter, portal and keystore.

Owns: parsing the command line (`main`, which loads each subcommand's module only when it is
needed), the state shared by subcommands (`state`), one module per command group (`cmd_*`,
light at import), running the long-lived processes (`serving`), stopping on a signal
(`stopping`) and the filter's worker processes (`workers`). May import everything; nothing
imports it.
"""
