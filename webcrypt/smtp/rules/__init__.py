"""Trigger and policy rules, one small module each, looked up by name.

Every rule module exposes ``name``, ``description`` and ``check(message, context) -> bool``
(the GNU Mailman 3 shape), with `rulecontext.Context` as its context. `registry` holds the rules
by name and `registry.TRIGGERS`, the rules any one of which asks for encryption. This
package module imports none of them, so a rule module never imports a module that imports it.
"""
