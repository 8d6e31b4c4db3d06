from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup
from wtforms import Form
from wtforms.fields.core import Field
from wtforms.meta import _MultiDictLike

_Validator = Callable[[Form, Field], object]

class FlaskForm(Form):
    # Without `formdata`, the current request's form and files are read.
    def __init__(
        self,
        formdata: _MultiDictLike | None = ...,
        obj: object | None = None,
        prefix: str = "",
        data: Mapping[str, object] | None = None,
        meta: Mapping[str, object] | None = None,
        **kwargs: object,
    ) -> None: ...
    def is_submitted(self) -> bool: ...
    def validate_on_submit(
        self, extra_validators: Mapping[str, Sequence[_Validator]] | None = None
    ) -> bool: ...
    def hidden_tag(self, *fields: str | Field) -> Markup: ...
