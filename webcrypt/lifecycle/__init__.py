"""The lifecycle of messages and accounts: notices, expiry, inactivity, keys, withdrawal.

The jobs live in `messages` (unread notices, read receipts, expiry notices, withdraw
offers), `accounts` (inactivity notices and deletion) and `rotation` (key rotation,
crypto-shredding, ledger retention); `jobs` runs them, `sending` sends each notice once.
`withdrawal` handles the adviser's withdraw link for the portal.
May import: `runtime`, `bootstrap`, `webcrypt.smtp` (the relay), `webcrypt.notices`,
`webcrypt.mail` and `keystore`.
"""
