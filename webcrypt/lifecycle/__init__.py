"""The lifecycle of messages and accounts: notices, expiry, inactivity, keys, withdrawal.

The jobs live in `messages` (unread notices, read receipts, expiry notices, withdraw
offers), `accounts` (inactivity notices and deletion) and `keys` (rotation,
crypto-shredding, ledger retention); `webcrypt.lifecycle.jobs` runs them. `withdraw` handles
the adviser's withdraw link for the portal.
"""
