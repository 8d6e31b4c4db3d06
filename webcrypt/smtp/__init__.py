"""The SMTP side: the aiosmtpd server (SMTP and LMTP) and handler, the rules, sealing plan, relay.

Owns: what the filter answers (`delivery` decides the 250/4xx/5xx per recipient, `handler`
maps it to SMTP at this edge only), who may have mail sealed (`admission`), which rules trigger
(`rules/`), and handing finished mail on (`relay`).
May import: `webcrypt.notices`, `webcrypt.sealing`, `webcrypt.mail`, `webcrypt.config`,
`webcrypt.envelope`, `errors`, `metrics` and `keystore`; never `runtime`, `lifecycle`, `portal`.
"""
