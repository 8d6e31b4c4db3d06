"""Reading and writing RFC 5322 mail, independent of SMTP and of the keystore.

Owns: the tolerant read-only view of a raw message (`message`), header text as a person reads
it (`headertext`), the MIME structure limits (`mimelimits`), writing MIME mail (`compose`),
rendering the texts of the mails the gateway writes itself (`rendering`) and dates for people
(`dates`).
May import: nothing of ours but `webcrypt.errors`, `webcrypt.config` (for types) and the
product's languages (`keystore.languages`).
"""
