# ruff: noqa: E501
"""Corpus shapes for the charsets our users write in, crossed with the transfer encodings.

Every charset appears in bodies (plain and HTML, quoted-printable, base64 and 8bit or 7bit)
and in headers (RFC 2047 encoded words, and raw 8-bit bytes as older clients write them).
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.corpus.build import ADVISER, Spec, headers, mail
from tests.corpus.mime import ew_b, ew_q, message, multipart, text


@dataclass(frozen=True)
class Sample:
    """A language sample in one charset, as a client of that locale would write it."""

    key: str
    charset: str
    codec: str
    subject: str
    name: str
    body: str
    client: str
    words: str  # "Q" or "B": how that client encodes header words
    eight_bit: bool  # whether the charset has 8-bit bytes (ISO-2022-JP has none)


SAMPLES = [
    Sample(
        "utf8",
        "UTF-8",
        "utf-8",
        "Übersicht 2026 – 東京 ✓",
        "Şebnem Çelik",
        "Sehr geehrte Frau Şahin,\n\nanbei die Übersicht für 2026 – Grüße aus 東京.\nBetrag: 1.250,00 € ✓\n",
        "Thunderbird 115 / Gmail",
        "B",
        True,
    ),
    Sample(
        "latin1",
        "ISO-8859-1",
        "iso-8859-1",
        "Depotübersicht für Herrn Müller",
        "Bärbel Schröder",
        "Sehr geehrter Herr Müller,\n\nanbei die Übersicht für Ihr Depot.\n\nMit freundlichen Grüßen\nBärbel Schröder\n",
        "Outlook 2010 / Thunderbird 2 (Western European locale)",
        "Q",
        True,
    ),
    Sample(
        "latin9",
        "ISO-8859-15",
        "iso-8859-15",
        "Überweisung über 1.250 €",
        "Élodie Lœwenberg",
        "Bonjour Madame,\n\nle virement de 1.250,00 € a été effectué.\nŒuvre, Šibenik, Žilina - cœur.\n",
        "Thunderbird / Evolution with ISO-8859-15 default (French, Finnish locales)",
        "Q",
        True,
    ),
    Sample(
        "cp1252",
        "windows-1252",
        "cp1252",
        "„Angebot“ – Stand 2026",
        "Bärbel “Babs” Schröder",
        "Guten Tag,\n\n„Angebot“ – Stand 2026 … Preis: 99 € • Rabatt ‰ ™\n\nGrüße\n",
        "Outlook 2016 (German)",
        "Q",
        True,
    ),
    Sample(
        "iso2022jp",
        "ISO-2022-JP",
        "iso2022_jp",
        "見積書送付のご案内",
        "山田 太郎",
        "いつもお世話になっております。\n見積書を添付いたします。\nよろしくお願いいたします。\n",
        "Becky! 2 / Outlook (Japanese locale)",
        "B",
        False,
    ),
    Sample(
        "gb2312",
        "GB2312",
        "gb2312",
        "季度投资报告",
        "王小明",
        "您好，\n附件是本季度的投资报告，请查收。\n谢谢！\n",
        "Foxmail 7 / Outlook (Simplified Chinese locale)",
        "B",
        True,
    ),
    Sample(
        "koi8r",
        "KOI8-R",
        "koi8-r",
        "Отчёт за квартал",
        "Иван Петров",
        "Здравствуйте!\n\nВо вложении отчёт за квартал.\nС уважением, Иван.\n",
        "The Bat! / Outlook Express (Russian locale)",
        "B",
        True,
    ),
]


def _word(sample: Sample, value: str) -> str:
    encode = ew_b if sample.words == "B" else ew_q
    return encode(value, sample.charset, sample.codec)


def _fields(
    sample: Sample, variant: str, *, raw_headers: bool = False
) -> list[tuple[str, str | bytes]]:
    message_id = f"cs-{sample.key}-{variant}@bank.example"
    if raw_headers:
        subject: str | bytes = sample.subject.encode(sample.codec)
        sender: str | bytes = sample.name.encode(sample.codec) + f" <{ADVISER}>".encode()
    else:
        subject = _word(sample, sample.subject)
        sender = f"{_word(sample, sample.name)} <{ADVISER}>"
    return headers(subject, sender=sender, message_id=message_id)


def _spec(sample: Sample, variant: str, body, exercises: str, *, raw_headers: bool = False) -> Spec:
    raw, expect = message(_fields(sample, variant, raw_headers=raw_headers), body)
    how = "raw 8-bit header bytes" if raw_headers else f"RFC 2047 {sample.words} encoded words"
    return Spec(
        f"cs-{sample.key}-{variant}",
        raw,
        expect,
        source=f"{sample.client}: {sample.charset} body, {how} in Subject and From.",
        exercises=f"{sample.charset}: {exercises}",
        subject=sample.subject,
        shown=(sample.name,),
        defects=(1,) if raw_headers else (3,),
        tags=("charset", sample.key),
    )


LABELS = [
    ("iso-8859-8-i", "iso-8859-8", "שלום, מצורף הדוח הרבעוני.\n", "Outlook (Hebrew locale)"),
    ("windows-874", "cp874", "สวัสดีครับ แนบรายงานประจำไตรมาส\n", "Outlook (Thai locale)"),
    ("macintosh", "mac_roman", "Frösche und Kröten – Grüße\n", "Eudora for Mac OS 9"),
    (
        "ks_c_5601-1987",
        "cp949",
        "안녕하세요, 분기 보고서를 첨부합니다.\n",
        "Outlook (Korean locale)",
    ),
    (
        "ISO-8859-2",
        "iso-8859-2",
        "Dzień dobry, w załączniku raport.\n",
        "Thunderbird (Polish locale)",
    ),
    (
        "Shift_JIS",
        "shift_jis",
        "お世話になっております。報告書を送ります。\n",
        "Outlook (Japanese locale)",
    ),
    ("Big5", "big5", "您好，附件是報告。\n", "Outlook (Traditional Chinese locale)"),
    ("GB18030", "gb18030", "您好，附件是报告 €。\n", "Foxmail 7 (GB18030)"),
]
"""Charset labels that real clients write, some of which Python knows under another name."""


def labels() -> list[Spec]:
    """One text/plain message per charset label of `LABELS`."""
    out = []
    for label, codec, body, client in LABELS:
        key = label.lower().replace("_", "-")
        out.append(
            mail(
                f"cs-label-{key}",
                "Bericht",
                text(body, charset=label, codec=codec, cte="8bit"),
                message_id=f"cs-label-{key}@bank.example",
                source=f"{client}: body in {label}, 8bit.",
                exercises=f"charset label {label} (Python codec {codec})",
                tags=("charset", "label"),
            )
        )
    return out


def specs() -> list[Spec]:
    """Charset × transfer encoding shapes, then the further charset labels."""
    out = labels()
    for sample in SAMPLES:
        plain = dict(charset=sample.charset, codec=sample.codec)
        native = "8bit" if sample.eight_bit else "7bit"
        out.append(
            _spec(
                sample,
                "qp",
                text(sample.body, cte="quoted-printable", **plain),
                "text/plain quoted-printable",
            )
        )
        out.append(
            _spec(sample, "base64", text(sample.body, cte="base64", **plain), "text/plain base64")
        )
        out.append(
            _spec(sample, native, text(sample.body, cte=native, **plain), f"text/plain {native}")
        )
        html = (
            '<html><head><meta http-equiv="Content-Type" content="text/html; charset='
            + sample.charset
            + '"></head><body><div>'
            + sample.body.replace("\n", "<br>\n")
            + "</div></body></html>\n"
        )
        alternative = multipart(
            "alternative",
            [
                text(sample.body, cte="quoted-printable", role="alternative", **plain),
                text(
                    html,
                    subtype="html",
                    cte="quoted-printable" if sample.eight_bit else "7bit",
                    **plain,
                ),
            ],
            boundary=f"----=_Part_{sample.key}_alt_1700000000",
        )
        out.append(
            _spec(
                sample,
                "alternative",
                alternative,
                "multipart/alternative, text/html with a meta charset",
            )
        )
        if sample.eight_bit and sample.key != "utf8":
            out.append(
                _spec(
                    sample,
                    "raw-headers",
                    text(sample.body, cte="8bit", **plain),
                    "raw header bytes decoded with the message's charset",
                    raw_headers=True,
                )
            )
    return out
