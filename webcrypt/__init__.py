"""WebCrypt: a secure-mail gateway that seals outbound mail into secure.htm.

Each flow is a subpackage (docs/architecture.md): `smtp` (the filter: server, rules, the
250 decision, relay), `sealing` (carrier mail and secure.htm), `mail` (reading and writing
RFC 5322), `envelope` (the format, no I/O), `lifecycle` (housekeeping), `config` and `cli`
(the composition root). `runtime` and `bootstrap` hold what every process needs.
"""

__version__ = "0.1.0"
