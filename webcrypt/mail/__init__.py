"""Reading and writing RFC 5322 mail, independent of SMTP and of the keystore.

Owns: the tolerant read-only view of a raw message (`message`), header text as a person reads
it (`headertext`), the MIME structure limits (`mimelimits`), writing the mails the gateway
composes itself (`compose`) and dates for people (`dates`).
May import: nothing of ours but `webcrypt.errors`.
"""
