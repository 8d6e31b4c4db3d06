"""The `webcrypt` command (click): the only composition root of filter, portal and keystore.

Owns: parsing the command line (`main`), the state shared by subcommands (`state`) and one
module per command group (`cmd_*`). May import everything; nothing imports it.
"""
