"""Form fields the admin shares (issue 21: amounts entered with a comma read as German)."""

from __future__ import annotations

from django import forms

from vendorportal.money import german_decimal_text


class GermanDecimalField(forms.DecimalField):
    """A decimal (money) field that reads "1.299,50", "12,5" and "12.50" alike and shows the
    stored value German ("12,50"). A text box with the decimal keypad on phones: a
    ``type=number`` box would refuse the comma in some browsers."""

    widget = forms.TextInput

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.widget.is_localized = True  # the value shown with a decimal comma
        self.widget.attrs.setdefault("inputmode", "decimal")

    def to_python(self, value):
        if isinstance(value, str):
            value = german_decimal_text(value)
        return super().to_python(value)
