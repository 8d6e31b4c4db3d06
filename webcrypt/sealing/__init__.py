"""Sealing: the carrier mail, secure.htm, corporate branding and the account cache it needs.

Owns: what the recipient receives (`carrier`, `securehtm`, the mailbox `notification`), how
it gets it (`methods`: attachment, mailbox or both), the sealed inbox line (`summary`), how it
looks (`branding`), sealing outside the filter (`batch`), and where a one-time PIN goes
(`pins`). Decides nothing about who gets sealed: that is `webcrypt.smtp`.
May import: `webcrypt.mail`, `webcrypt.envelope`, the shared top-level modules and `keystore`.
"""
