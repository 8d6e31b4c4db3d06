"""The SMTP side: the aiosmtpd server and handler, the trigger rules, sealing plan, relay, LMTP.

Owns: what the filter answers (`delivery` decides the 250/4xx/5xx per recipient, `handler`
maps it to SMTP at this edge only), who may have mail sealed (`admission`), which rules trigger
(`rules/`), and handing finished mail on (`relay`).
May import: `webcrypt.sealing`, `webcrypt.mail`, `webcrypt.envelope`, `webcrypt.config`,
the shared top-level modules and `keystore`; never `portal`.
"""
